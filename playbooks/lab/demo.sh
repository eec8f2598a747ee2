#!/usr/bin/env bash
# The demo: a docker-in-docker lab cluster configured by crosshost.network.
#
#   playbooks/lab/demo.sh           (make demo)       build, configure, verify
#   HOSTS=5 playbooks/lab/demo.sh   (make demo HOSTS=5)
#   playbooks/lab/demo.sh down      (make demo-down)  remove the lab
#
# Steps: make sure dockerd runs (installing docker.io / mmdebstrap when missing,
# as root), build the lab images (skipped when current), create the lab
# (playbooks/lab/create.yml), then run playbooks/site.yml and
# playbooks/verify.yml on it; verify.yml prints the reachability matrix.
# With HOSTS=3 (the default) the inventory is inventory/lab; any other count
# uses a generated copy in .cache/lab/inventory-<N>/ (same group_vars).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
hosts=${HOSTS:-3}
lab=crosshost-lab

export LANG=${LANG:-C.UTF-8}
# Use the project's venv when the caller did not put Ansible on PATH.
if ! command -v ansible-playbook >/dev/null && [ -x "$root/.venv/bin/ansible-playbook" ]; then
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

step() { printf '\n=== %s\n' "$*"; }
timings=()
timed() {  # timed LABEL COMMAND...: run and remember how long it took
    local label=$1 start=$SECONDS
    shift
    "$@"
    timings+=("$(printf '%-24s %4d s' "$label" $((SECONDS - start)))")
}

if [ "${1:-up}" = down ]; then
    step "removing lab $lab"
    lab_playbook playbooks/lab/destroy.yml -e "crosshost_lab_name=$lab"
    exit
fi
[ "${1:-up}" = up ] || { echo "usage: demo.sh [up|down]" >&2; exit 2; }

if ! [[ $hosts =~ ^[1-9][0-9]*$ ]]; then
    echo "demo.sh: HOSTS must be a positive number, got '$hosts'" >&2
    exit 2
fi

apt_install() {  # install missing Debian packages (root only)
    if [ "$(id -u)" != 0 ]; then
        echo "demo.sh: please install: $*" >&2
        exit 1
    fi
    step "installing $*"
    DEBIAN_FRONTEND=noninteractive apt-get update -q </dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" </dev/null
}

ensure_docker() {
    command -v docker >/dev/null || apt_install docker.io
    docker info >/dev/null 2>&1 && return 0
    step "starting dockerd"
    if [ -d /run/systemd/system ]; then
        systemctl start docker || true
    elif [ -x /etc/init.d/docker ]; then
        service docker start || true
    fi
    if ! docker info >/dev/null 2>&1; then
        setsid dockerd >/var/log/crosshost-dockerd.log 2>&1 </dev/null &
    fi
    for _ in $(seq 60); do
        docker info >/dev/null 2>&1 && return 0
        sleep 1
    done
    echo "demo.sh: dockerd did not come up" >&2
    exit 1
}

timed "docker" ensure_docker
missing=()
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
[ -x /bin/busybox ] || missing+=(busybox-static)
[ ${#missing[@]} -eq 0 ] || apt_install "${missing[@]}"

step "lab images"
timed "images" playbooks/lab/build-images.sh

inventory=inventory/lab
create_args=(-e "crosshost_lab_name=$lab" -e "crosshost_lab_hosts=$hosts")
if [ "$hosts" != 3 ]; then
    inventory=.cache/lab/inventory-$hosts
    mkdir -p "$inventory"
    ln -sfn "$root/inventory/lab/group_vars" "$inventory/group_vars"
    create_args+=(-e "crosshost_lab_inventory_file=$root/$inventory/hosts.yml")
fi

step "creating lab $lab with $hosts hosts"
timed "create.yml" lab_playbook playbooks/lab/create.yml "${create_args[@]}" -e crosshost_lab_build_images=false

for playbook in site verify; do
    if [ ! -f "playbooks/$playbook.yml" ]; then
        echo "demo.sh: playbooks/$playbook.yml does not exist yet: skipped" >&2
        continue
    fi
    step "ansible-playbook -i $inventory playbooks/$playbook.yml"
    timed "$playbook.yml" ansible-playbook -i "$inventory" "playbooks/$playbook.yml"
done

step "done: lab $lab ($hosts hosts, inventory $inventory); remove it with: make demo-down"
printf '%s\n' "${timings[@]}"
