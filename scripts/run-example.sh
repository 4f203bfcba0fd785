#!/bin/sh
# The main job: runs an example model repository's pipeline end to end.
# examples/NAME is copied into a fresh git repository (as a team's own
# repository would be) and `tauon run` runs its committed pipeline.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
name=${1:-hello}
[ -d "$root/examples/$name" ] || { echo "no example named '$name' in $root/examples" >&2; exit 2; }
work=${TAUON_EXAMPLE_DIR:-$(mktemp -d /tmp/tauon-example.XXXXXX)}
rm -rf "$work/$name"
mkdir -p "$work"
cp -r "$root/examples/$name" "$work/$name"
cd "$work/$name"
git init -q -b main
git add -A
git -c user.name="Tauon Example" -c user.email=example@tauon.invalid commit -q -m "Example $name"
echo "example repository: $work/$name"
shift $(( $# > 0 ? 1 : 0 ))
exec "$root/build/tauon" --data-dir "$work/.tauon" run "$@"
