#!/usr/bin/env bash
# load-image.sh IMAGE CONTAINER
# Make the inner dockerd of lab host CONTAINER hold the machine's IMAGE
# (same image ID); prints "loaded" when it had to copy, else "unchanged".
set -euo pipefail
image=$1
container=$2
want=$(docker image inspect --format '{{.Id}}' "$image")
have=$(docker exec "$container" docker image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)
if [ "$want" = "$have" ]; then
    echo "$container: $image unchanged"
    exit 0
fi
docker save "$image" | docker exec -i "$container" docker load --quiet >/dev/null
echo "$container: $image loaded"
