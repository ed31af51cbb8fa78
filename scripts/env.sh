# Sourced by the scripts: puts the npm-installed wasm-opt and cargo's binaries on PATH.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$_root/tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
unset _root
