#!/usr/bin/env bash
# Build the docker-in-docker lab images locally (no registry is needed).
#
#   crosshost-lab-host  Debian bookworm minbase + docker.io and the network
#                       tools the roles use (udhcpc is busybox's); tini as
#                       /sbin/init runs images/host-init.sh, which starts the
#                       inner dockerd through /etc/init.d/docker.
#   crosshost-lab-app   busybox-static alone (sh ping ip nc udhcpc httpd ...),
#                       loaded into every lab host's inner dockerd.
#
# Usage: build-images.sh [--force] [host] [app]     (default: both)
# An image is skipped when it exists with the same recipe label (a hash of
# the package list, the build functions below and images/*), so changing the
# recipe rebuilds on the next run. Replaced images no container uses are pruned.
# The host image takes 1-4 minutes (dpkg in a chroot), the app image 1 s.
# Environment: CROSSHOST_LAB_MIRROR, CROSSHOST_LAB_SECURITY_MIRROR (Debian
# mirrors for mmdebstrap), CROSSHOST_LAB_DEB_CACHE (kept .debs),
# CROSSHOST_LAB_HOST_IMAGE, CROSSHOST_LAB_APP_IMAGE.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
host_image=${CROSSHOST_LAB_HOST_IMAGE:-crosshost-lab-host}
app_image=${CROSSHOST_LAB_APP_IMAGE:-crosshost-lab-app}
mirror=${CROSSHOST_LAB_MIRROR:-http://deb.debian.org/debian}
security_mirror=${CROSSHOST_LAB_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
suite=bookworm
# Downloaded .debs are kept here so a rebuild after a recipe change is quick.
deb_cache=${CROSSHOST_LAB_DEB_CACHE:-/var/cache/crosshost-lab/debs}

# Packages of the lab host. Keep in step with what the roles expect to find
# already installed (python3-apt lets ansible.builtin.apt verify presence
# without installing anything).
host_packages=(
    docker.io tini python3 python3-apt iproute2 bridge-utils iptables nftables
    iputils-ping arping procps kmod ethtool tcpdump etcd-server etcd-client
    iperf3 busybox-static isc-dhcp-client ca-certificates
)

force=0
targets=()
for arg in "$@"; do
    case "$arg" in
        --force|-f) force=1 ;;
        host|app) targets+=("$arg") ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) echo "build-images.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=(host app)

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

build_host() {
    # shellcheck disable=SC2016  # "$1" in the hooks is mmdebstrap's chroot path
    # /etc/init.d/docker raises RLIMIT_NOFILE/NPROC past the container's hard
    # limits, which needs CAP_SYS_RESOURCE (not grantable here): make those
    # ulimit calls best effort instead of fatal.
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
        --include="$(IFS=,; echo "${host_packages[*]}")" \
        --customize-hook="upload $here/images/host-init.sh /usr/local/sbin/crosshost-lab-init" \
        --customize-hook='chmod 0755 "$1/usr/local/sbin/crosshost-lab-init"' \
        --customize-hook='ln -sf /usr/bin/tini "$1/usr/sbin/init"' \
        --customize-hook='rm -f "$1/etc/hostname" "$1/etc/resolv.conf"' \
        --customize-hook='sed -i -E "s/^([[:space:]]*ulimit [^|]*)$/\1 2>\/dev\/null || true/" "$1/etc/init.d/docker"' \
        --customize-hook='grep -q "ulimit -n 1048576 2>/dev/null || true" "$1/etc/init.d/docker"' \
        --customize-hook='mkdir -p "$1/usr/share/udhcpc"' \
        --customize-hook="upload $here/images/udhcpc.script /usr/share/udhcpc/default.script" \
        --customize-hook='chmod 0755 "$1/usr/share/udhcpc/default.script"' \
        --customize-hook='ln -sf /usr/bin/busybox "$1/usr/local/sbin/udhcpc"' \
        "$suite" - \
        "deb $mirror $suite main" \
        "deb $mirror $suite-updates main" \
        "deb $security_mirror $suite-security main" \
    | docker import \
        --change 'ENTRYPOINT ["/sbin/init", "--", "/usr/local/sbin/crosshost-lab-init"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change "LABEL crosshost.lab.recipe=$recipe" \
        - "$host_image" >/dev/null
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

# What makes the images (declare -f prints the functions without comments).
recipe=$( (echo "$suite ${host_packages[*]}"; declare -f build_host build_app; cat "$here"/images/*) \
    | sha256sum | cut -c1-16)

for target in "${targets[@]}"; do
    image_var=${target}_image
    image=${!image_var}
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
