#!/usr/bin/env bash
# The demo: a docker-in-docker lab cluster configured by crosshost.network.
#
#   playbooks/lab/demo.sh           (make demo)       prepare, build, configure, verify
#   HOSTS=5 playbooks/lab/demo.sh   (make demo HOSTS=5)
#   playbooks/lab/demo.sh down      (make demo-down)  remove the lab
#   playbooks/lab/demo.sh prepare [--dry-run]        only make the machine ready
#                                                    (--dry-run: say what it would do)
#
# prepare: a running Docker engine (`docker info` answers; the CLI alone is not
# enough), installing what is missing with apt-get (root only, only what is
# missing: docker.io, mmdebstrap, busybox-static, openssh-client) and starting
# the engine (systemctl where systemd runs, else dockerd in the background,
# logging to /var/log/crosshost-dockerd.log). Whatever it cannot do, it says
# what and how to fix it, and stops.
# Then: the lab images (skipped when current), the lab (create.yml),
# playbooks/site.yml and playbooks/verify.yml over SSH, and a summary: hosts,
# subnets, backend, the reachability matrix, the time taken.
# With HOSTS=3 (the default) the inventory is inventory/lab; any other count,
# or another lab (CROSSHOST_DEMO_LAB, CROSSHOST_DEMO_SUBNET: a second demo beside
# the first), uses a generated copy in .cache/lab/inventory-<lab>-<N>/ (same group_vars).
# Test hooks: CROSSHOST_DEMO_SYSTEMD_DIR (default /run/systemd/system: systemd
# runs when it exists), CROSSHOST_DEMO_DOCKERD_LOG, CROSSHOST_DEMO_WAIT (s).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
hosts=${HOSTS:-3}
lab=${CROSSHOST_DEMO_LAB:-crosshost-lab}
subnet=${CROSSHOST_DEMO_SUBNET:-198.18.0.0/24}
dry_run=0
systemd_dir=${CROSSHOST_DEMO_SYSTEMD_DIR:-/run/systemd/system}
dockerd_log=${CROSSHOST_DEMO_DOCKERD_LOG:-/var/log/crosshost-dockerd.log}
engine_wait=${CROSSHOST_DEMO_WAIT:-60}

step() { printf '\n=== %s\n' "$*"; }
fail() {  # fail WHAT HOW...: what could not be done, and how to fix it
    printf 'demo.sh: %s\n' "$1" >&2
    shift
    printf '  fix: %s\n' "$@" >&2
    exit 1
}
have() { command -v "$1" >/dev/null 2>&1; }
# Run a command, or only say it under --dry-run.
act() {
    if [ "$dry_run" = 1 ]; then
        echo "would run: $*"
    else
        "$@"
    fi
}

apt_updated=0
apt_install() {  # apt_install PACKAGE...: install what is missing (root only)
    if [ "$(id -u)" != 0 ]; then
        fail "missing Debian packages: $*" "as root: apt-get install $*" "or run make demo as root"
    fi
    step "installing $*"
    export DEBIAN_FRONTEND=noninteractive
    if [ "$apt_updated" = 0 ]; then
        act apt-get update -q </dev/null \
            || fail "apt-get update failed" "check /etc/apt/sources.list and the network, then: apt-get update"
        apt_updated=1
    fi
    act apt-get install -y -q "$@" </dev/null \
        || fail "apt-get install $* failed" "run it yourself and read its error: apt-get install $*"
}

# (docker info fails here by definition: only its last line of stderr matters)
engine_error() { docker info 2>&1 >/dev/null | tail -n 1 || true; }
engine_up() { have docker && docker info >/dev/null 2>&1; }

start_engine() {
    if [ -d "$systemd_dir" ]; then
        step "starting the Docker engine: systemctl start docker"
        act systemctl start docker.service \
            || fail "systemctl start docker failed" "read: journalctl -u docker.service -b" \
                    "then: systemctl start docker && make demo"
        return
    fi
    step "starting the Docker engine: dockerd in the background (no systemd; log $dockerd_log)"
    if [ "$dry_run" = 1 ]; then
        echo "would run: setsid dockerd >$dockerd_log 2>&1 &"
        return
    fi
    setsid dockerd >"$dockerd_log" 2>&1 </dev/null &
}

ensure_engine() {
    if engine_up; then
        echo "Docker engine: running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
        return
    fi
    # The CLI can talk to a running engine we may not see (permissions).
    if have docker && engine_error | grep -i 'permission denied' >/dev/null; then
        fail "docker cannot reach the engine: $(engine_error)" \
             "run make demo as root, or add yourself to group docker (then log in again)"
    fi
    if have docker && ! have dockerd; then
        echo "Docker: the docker command is there ($(command -v docker)) but no engine (dockerd)"
    fi
    if ! have docker || ! have dockerd; then
        apt_install docker.io
    fi
    engine_up && return
    start_engine
    [ "$dry_run" = 1 ] && return
    local _
    for _ in $(seq "$engine_wait"); do
        engine_up && { echo "Docker engine: running"; return; }
        sleep 1
    done
    if [ -d "$systemd_dir" ]; then
        fail "the Docker engine did not answer within $engine_wait s: $(engine_error)" \
             "read: journalctl -u docker.service -b; fix it, then: systemctl restart docker && make demo"
    fi
    fail "the Docker engine did not answer within $engine_wait s: $(engine_error)" \
         "read: $dockerd_log; fix it, then: make demo"
}

ensure_tools() {
    local missing=()
    have mmdebstrap || missing+=(mmdebstrap)
    [ -x /bin/busybox ] || missing+=(busybox-static)
    { have ssh && have ssh-keygen; } || missing+=(openssh-client)
    if [ ${#missing[@]} -gt 0 ]; then
        apt_install "${missing[@]}"
    else
        echo "tools: mmdebstrap, busybox, ssh: present"
    fi
}

prepare() {
    step "preparing the machine"
    ensure_engine
    ensure_tools
}

case "${1:-up}" in
    up|down) ;;
    prepare)
        [ "${2:-}" = --dry-run ] && dry_run=1
        prepare
        exit ;;
    *) echo "usage: demo.sh [up|down|prepare [--dry-run]]" >&2; exit 2 ;;
esac

export LANG=${LANG:-C.UTF-8}
# Use the project's venv when the caller did not put Ansible on PATH.
if ! have ansible-playbook && [ -x "$root/.venv/bin/ansible-playbook" ]; then
    export PATH=$root/.venv/bin:$PATH
fi
# Ansible finds this checkout as crosshost.network (as the Makefile sets it up).
if [ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]; then
    export ANSIBLE_COLLECTIONS_PATH=$root/.cache/collections
    mkdir -p "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/crosshost"
    ln -sfn "$root" "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/crosshost/network"
fi

# create.yml and destroy.yml need no inventory: keep their output quiet about it.
lab_playbook() {
    ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
        ansible-playbook "$@"
}

timings=()
timed() {  # timed LABEL COMMAND...: run and remember how long it took
    local label=$1 start=$SECONDS
    shift
    "$@"
    timings+=("$label $((SECONDS - start)) s")
}

if [ "${1:-up}" = down ]; then
    step "removing lab $lab"
    lab_playbook playbooks/lab/destroy.yml -e "crosshost_lab_name=$lab"
    exit
fi

if ! [[ $hosts =~ ^[1-9][0-9]*$ ]]; then
    echo "demo.sh: HOSTS must be a positive number, got '$hosts'" >&2
    exit 2
fi

timed prepare prepare

step "lab images"
timed images playbooks/lab/build-images.sh

inventory=inventory/lab
create_args=(-e "crosshost_lab_name=$lab" -e "crosshost_lab_hosts=$hosts" -e "crosshost_lab_subnet=$subnet")
if [ "$hosts" != 3 ] || [ "$lab" != crosshost-lab ] || [ "$subnet" != 198.18.0.0/24 ]; then
    inventory=.cache/lab/inventory-$lab-$hosts
    mkdir -p "$inventory"
    ln -sfn "$root/inventory/lab/group_vars" "$inventory/group_vars"
    create_args+=(-e "crosshost_lab_inventory_file=$root/$inventory/hosts.yml")
fi

step "creating lab $lab with $hosts hosts"
timed create.yml lab_playbook playbooks/lab/create.yml "${create_args[@]}" -e crosshost_lab_build_images=false

step "ansible-playbook -i $inventory playbooks/site.yml"
timed site.yml ansible-playbook -i "$inventory" playbooks/site.yml

step "ansible-playbook -i $inventory playbooks/verify.yml"
verify_log=$(mktemp /tmp/crosshost-demo-verify.XXXXXX)
trap 'rm -f "$verify_log"' EXIT
logged() { local log=$1; shift; "$@" | tee "$log"; }
timed verify.yml logged "$verify_log" ansible-playbook -i "$inventory" playbooks/verify.yml

# The summary: who is where, and who reaches whom (verify.yml's matrix).
ansible-inventory -i "$inventory" --list | python3 -c '
import json, os, re, sys
inv = json.load(sys.stdin)
hostvars = inv["_meta"]["hostvars"]
hosts = sorted(inv["cluster"]["hosts"])
# the plan keeps "  <host>: <subnet>" lines under "subnets:" beside the inventory
alloc_path = os.path.join(sys.argv[1], ".crosshost_allocations.yml")
alloc = open(alloc_path).read() if os.path.exists(alloc_path) else ""
subnets = dict(re.findall(r"^  (\S+): (\S+/\d+)$", alloc, re.M))
first = hostvars[hosts[0]]
print("lab %s: %d hosts over SSH (user %s), backend %s, cluster network %s"
      % (sys.argv[2], len(hosts), first.get("ansible_user", "?"),
         first.get("crosshost_backend", "?"), first.get("crosshost_network", "?")))
print("  %-8s %-16s %s" % ("host", "underlay", "containers"))
for h in hosts:
    print("  %-8s %-16s %s" % (h, hostvars[h].get("ansible_host", "?"), subnets.get(h, "?")))
' "$inventory" "$lab" > "$verify_log.summary"
step "summary"
cat "$verify_log.summary"
rm -f "$verify_log.summary"
echo "reachability of bridge-mode containers (verify.yml):"
sed -n '/TASK \[Show the reachability matrix\]/,/^ *\]/p' "$verify_log" \
    | sed -n 's/^ *"\(.*\)",\{0,1\}$/  \1/p'
joined=$(printf '%s, ' "${timings[@]}")
printf 'time: %s s in all (%s)\n' "$SECONDS" "${joined%, }"
echo "shell on a host: ssh -F .cache/lab/$lab/ssh_config node1; remove the lab: make demo-down"
