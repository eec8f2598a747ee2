#!/bin/sh
# crosshost lab host boot script: run by tini (installed as /sbin/init, so
# PID 1's comm is "init" and Ansible's service_mgr fact falls through to
# "sysvinit"; ansible.builtin.service then drives /etc/init.d/docker).
set -u

# Docker mounts /proc/sys read-only unless systempaths=unconfined, which
# community.docker cannot request. CAP_SYS_ADMIN lets us remount it so the
# roles can set per-network-namespace sysctls (net.*). Only net.* may be
# written in the lab: other keys are global to the machine.
if ! mount -o remount,rw /proc/sys 2>/dev/null; then
    echo "crosshost-lab-init: warning: /proc/sys stays read-only" >&2
fi

# /run is a fresh tmpfs at every start (create.yml), as on a booted host.
mkdir -p /run/lock
chmod 1777 /run/lock

# The inner dockerd shares the machine's cgroup hierarchy (cgroupns host);
# give every lab host its own parent so their containers never collide.
# Kept in /etc/default/docker (read by /etc/init.d/docker on every start and
# restart) so that /etc/docker/daemon.json stays free for the docker role.
cgroup_parent=${CROSSHOST_LAB_CGROUP_PARENT:-/$(hostname)}
cat > /etc/default/docker <<EOF
# Written by the crosshost lab at boot (crosshost-lab-init); do not edit.
DOCKER_OPTS="--cgroup-parent ${cgroup_parent}"
EOF

if [ "${CROSSHOST_LAB_DOCKER:-1}" = 1 ]; then
    service docker start || echo "crosshost-lab-init: warning: docker did not start" >&2
fi

stop() {
    [ "${CROSSHOST_LAB_DOCKER:-1}" = 1 ] && service docker stop
    exit 0
}
trap stop TERM INT

# Sleep in the background so the trap runs as soon as a signal arrives.
sleep infinity &
wait $!
