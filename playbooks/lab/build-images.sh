#!/usr/bin/env bash
# Build the docker-in-docker lab images locally (no registry is needed).
#
#   crosshost-lab-node  a real host: Debian bookworm minbase with systemd as
#                       PID 1, sshd (keys only; login user admin with
#                       passwordless sudo), Docker's engine as a systemd
#                       service, and the network tools the roles use (udhcpc
#                       is busybox's). create.yml mounts each lab host's own
#                       host key, the lab's authorized key and the inner
#                       dockerd's cgroup parent.
#   crosshost-lab-app   busybox-static alone (sh ping ip nc udhcpc httpd ...),
#                       loaded into every lab host's inner dockerd.
#
# Usage: build-images.sh [--force] [node] [app]     (default: both)
# An image is skipped when it exists with the same recipe label (a hash of
# its packages, its build functions and the files it takes from images/), so
# changing the recipe rebuilds on the next run. Replaced images no container uses are pruned.
# The node image takes 1-4 minutes (dpkg in a chroot), the app image 1 s.
# Environment: CROSSHOST_LAB_MIRROR, CROSSHOST_LAB_SECURITY_MIRROR (Debian
# mirrors for mmdebstrap), CROSSHOST_LAB_DEB_CACHE (kept .debs),
# CROSSHOST_LAB_NODE_IMAGE, CROSSHOST_LAB_APP_IMAGE.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
node_image=${CROSSHOST_LAB_NODE_IMAGE:-crosshost-lab-node}
app_image=${CROSSHOST_LAB_APP_IMAGE:-crosshost-lab-app}
mirror=${CROSSHOST_LAB_MIRROR:-http://deb.debian.org/debian}
security_mirror=${CROSSHOST_LAB_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
suite=bookworm
# Downloaded .debs are kept here so a rebuild after a recipe change is quick.
deb_cache=${CROSSHOST_LAB_DEB_CACHE:-/var/cache/crosshost-lab/debs}

# Packages of the lab host. Keep in step with what the roles expect to find
# already installed (python3-apt lets ansible.builtin.apt verify presence
# without installing anything).
node_packages=(
    systemd systemd-sysv dbus openssh-server sudo
    docker.io python3 python3-apt iproute2 bridge-utils iptables nftables
    iputils-ping arping procps kmod ethtool tcpdump etcd-server etcd-client
    iperf3 busybox-static isc-dhcp-client ca-certificates
)
node_user='admin'

force=0
targets=()
for arg in "$@"; do
    case "$arg" in
        --force|-f) force=1 ;;
        node|app) targets+=("$arg") ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "build-images.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(node app)

for tool in docker mmdebstrap; do
    command -v "$tool" >/dev/null || { echo "build-images.sh: $tool not found" >&2; exit 1; }
done

# One build at a time (parallel Molecule scenarios all call this).
exec 9>/run/lock/crosshost-lab-images.lock
flock 9

tmpdirs=()
trap 'rm -rf "${tmpdirs[@]}"' EXIT

current() {  # current IMAGE -> true when present with this recipe
    local have
    have=$(docker image inspect --format '{{ index .Config.Labels "crosshost.lab.recipe" }}' "$1" 2>/dev/null) || return 1
    [ "$have" = "$recipe" ]
}

recipe_of() {  # recipe_of TARGET: a hash of what makes that image
    case "$1" in
        node) echo "$suite ${node_packages[*]} $node_user"
              declare -f debian_tar build_node
              cat "$here"/images/node-* "$here"/images/crosshost-lab-* "$here"/images/udhcpc.script ;;
        app)  declare -f build_app
              cat "$here"/images/udhcpc.script ;;
    esac | sha256sum | cut -c1-16
}

debian_tar() {  # debian_tar PACKAGES MMDEBSTRAP-OPTION...: a root file system as tar on stdout
    local packages=$1
    shift
    # shellcheck disable=SC2016  # "$1" in the hooks is mmdebstrap's chroot path
    # setsid: when its tar output breaks, mmdebstrap SIGHUPs its whole process
    # group, which would otherwise take our caller (ansible, make) down too.
    setsid --wait mmdebstrap --variant=minbase --format=tar --quiet \
        --aptopt='APT::Install-Recommends "false"' --dpkgopt=force-unsafe-io \
        --skip=download/empty --skip=essential/unlink \
        --setup-hook="mkdir -p '$deb_cache'"' "$1"/var/cache/apt/archives/' \
        --setup-hook="sync-in $deb_cache /var/cache/apt/archives/" \
        --customize-hook="sync-out /var/cache/apt/archives $deb_cache" \
        --dpkgopt='path-exclude=/usr/share/man/*' \
        --dpkgopt='path-exclude=/usr/share/info/*' \
        --dpkgopt='path-exclude=/usr/share/locale/*' \
        --dpkgopt='path-exclude=/usr/share/doc/*' \
        --dpkgopt='path-include=/usr/share/doc/*/copyright' \
        --include="$packages" \
        --customize-hook='rm -f "$1/etc/hostname" "$1/etc/resolv.conf"' \
        --customize-hook='mkdir -p "$1/usr/share/udhcpc"' \
        --customize-hook="upload $here/images/udhcpc.script /usr/share/udhcpc/default.script" \
        --customize-hook='chmod 0755 "$1/usr/share/udhcpc/default.script"' \
        --customize-hook='ln -sf /usr/bin/busybox "$1/usr/local/sbin/udhcpc"' \
        "$@" \
        "$suite" - \
        "deb $mirror $suite main" \
        "deb $mirror $suite-updates main" \
        "deb $security_mirror $suite-security main"
}

build_node() {
    # shellcheck disable=SC2016  # "$1" in the hooks is mmdebstrap's chroot path
    # - login user $node_user: no password (sshd takes keys only), sudo without one;
    # - no host keys in the image: every lab host gets its own from create.yml;
    # - the distribution's sysctl.d files set kernel.*/fs.* keys, which are the
    #   whole machine's: masked (a lab host may write net.* keys only);
    # - etcd-server is there for the etcd role, not started at boot;
    # - an empty machine-id: systemd makes a new one at each host's first boot.
    debian_tar "$(IFS=,; echo "${node_packages[*]}")" \
        --customize-hook="chroot \"\$1\" useradd --create-home --shell /bin/bash --password '*' $node_user" \
        --customize-hook="install -d -m 0700 \"\$1/home/$node_user/.ssh\" && chroot \"\$1\" chown $node_user: /home/$node_user/.ssh" \
        --customize-hook="echo '$node_user ALL=(ALL:ALL) NOPASSWD: ALL' > \"\$1/etc/sudoers.d/crosshost-lab\" && chmod 0440 \"\$1/etc/sudoers.d/crosshost-lab\"" \
        --customize-hook='rm -f "$1"/etc/ssh/ssh_host_*' \
        --customize-hook="upload $here/images/node-sshd.conf /etc/ssh/sshd_config.d/crosshost-lab.conf" \
        --customize-hook="upload $here/images/crosshost-lab-procsys.service /etc/systemd/system/crosshost-lab-procsys.service" \
        --customize-hook='chroot "$1" systemctl enable crosshost-lab-procsys.service' \
        --customize-hook='chroot "$1" systemctl disable etcd.service' \
        --customize-hook='for f in "$1"/usr/lib/sysctl.d/*.conf; do ln -sf /dev/null "$1/etc/sysctl.d/${f##*/}"; done' \
        --customize-hook=': > "$1/etc/machine-id"' \
    | docker import \
        --change 'ENTRYPOINT ["/sbin/init"]' \
        --change 'ENV container=docker' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "LABEL crosshost.lab.recipe=$recipe" \
        - "$node_image" >/dev/null
}

build_app() {
    local root busybox deb
    root=$(mktemp -d /tmp/crosshost-lab-app.XXXXXX)
    tmpdirs+=("$root")
    mkdir -p "$root"/bin "$root"/sbin "$root"/usr/bin "$root"/usr/sbin \
        "$root"/etc "$root"/tmp "$root"/var/www "$root"/usr/share/udhcpc "$root"/root
    # busybox-static from the machine when installed, else from the mirror.
    if dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
        busybox=/bin/busybox
    else
        deb=$(mktemp -d /tmp/crosshost-lab-deb.XXXXXX)
        tmpdirs+=("$deb")
        (cd "$deb" && apt-get download -q busybox-static >/dev/null)
        dpkg-deb -x "$deb"/busybox-static_*.deb "$deb"/x
        busybox=$deb/x/bin/busybox
    fi
    install -m 0755 "$busybox" "$root"/bin/busybox
    local applet
    for applet in $("$root"/bin/busybox --list-full); do
        [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
    done
    chmod 1777 "$root"/tmp
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root"/etc/passwd
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$root"/etc/group
    echo 'crosshost lab app' > "$root"/var/www/index.html
    install -m 0755 "$here"/images/udhcpc.script "$root"/usr/share/udhcpc/default.script
    tar -C "$root" --numeric-owner --owner=0 --group=0 -cf - . \
    | docker import \
        --change 'CMD ["/bin/sh"]' \
        --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "LABEL crosshost.lab.recipe=$recipe" \
        - "$app_image" >/dev/null
}

for target in "${targets[@]}"; do
    image_var=${target}_image
    image=${!image_var}
    # (declare -f prints the build functions without their comments)
    recipe=$(recipe_of "$target")
    if [ "$force" = 0 ] && current "$image"; then
        echo "$image: up to date (recipe $recipe)"
        continue
    fi
    start=$SECONDS
    "build_$target"
    echo "$image: built in $((SECONDS - start)) s (recipe $recipe)"
done

# Earlier builds that lost their tag, once no container uses them any more.
docker image prune --force --filter label=crosshost.lab.recipe >/dev/null
