#!/usr/bin/env bash
# moto.sh installs and starts moto, the independent AWS emulator, for the
# integration tests. moto is not packaged for bookworm, so its pure-Python
# .deb is fetched from Debian trixie through a private apt sources list (the
# system's sources are left untouched) and unpacked into .cache/moto, with
# python3-jsonpath-ng (not in bookworm either; moto's EventBridge needs it to
# deliver events to a rule's targets); the other dependencies come from
# bookworm itself.
#
#   scripts/moto.sh install      install (idempotent)
#   scripts/moto.sh start [PORT] install if needed, start on 127.0.0.1:PORT
#                                (default 5055), wait until ready, print the URL
#   scripts/moto.sh stop         stop the server started by "start"
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cache="$top/.cache/moto"
root="$cache/root"
pidfile="$cache/moto.pid"
py=/usr/bin/python3

deps="python3-boto3 python3-botocore python3-werkzeug python3-flask python3-flask-cors python3-responses python3-xmltodict python3-jinja2 python3-cryptography python3-dateutil python3-requests python3-yaml python3-ply"

pythonpath() {
  echo "$root/usr/lib/python3/dist-packages"
}

installed() {
  [ -f "$root/usr/lib/python3/dist-packages/moto/__init__.py" ] &&
    PYTHONPATH=$(pythonpath) "$py" -c 'import moto.server, jsonpath_ng.ext, moto.cloudformation.models' 2>/dev/null
}

# moto's CloudFormation imports every service's models, API Gateway's among
# them, which imports openapi_spec_validator at load; neither bookworm nor
# (for bookworm's Python 3.11) trixie has it. The tests never import an
# OpenAPI document into API Gateway, its only use: a module of that name
# that says so is put beside moto, unless the system has the real one.
openapi_shim() {
  PYTHONPATH=$(pythonpath) "$py" -c 'import openapi_spec_validator' 2>/dev/null && return 0
  d="$(pythonpath)/openapi_spec_validator"
  mkdir -p "$d/validation"
  cat >"$d/__init__.py" <<'PY'
"""Put here by falcocw's scripts/moto.sh: moto's API Gateway imports this at
load, and moto's CloudFormation imports API Gateway. Validating an OpenAPI
document (API Gateway's import of one) is not available."""


def validate(spec, *args, **kwargs):
    raise NotImplementedError("openapi_spec_validator is not installed (falcocw's moto.sh): API Gateway cannot import an OpenAPI document here")


validate_spec = validate
PY
  : >"$d/validation/__init__.py"
  cat >"$d/validation/exceptions.py" <<'PY'
class OpenAPIValidationError(Exception):
    """The exception moto's API Gateway catches; never raised here."""
PY
}

# moto's CloudFormation keeps an AWS::NoValue in a list (a policy statement
# that Fn::If leaves out) as a null, where CloudFormation removes it, and its
# IAM then refuses the policy: the list is patched to drop it, as
# CloudFormation does (idempotent).
patch_novalue() {
  f="$root/usr/lib/python3/dist-packages/moto/cloudformation/parsing.py"
  grep -q "falcocw: AWS::NoValue" "$f" && return 0
  "$py" - "$f" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
old = "        return [clean_json(val, resources_map) for val in resource_json]\n"
new = ("        # falcocw: AWS::NoValue in a list is removed, as CloudFormation does\n"
       "        cleaned = [clean_json(val, resources_map) for val in resource_json]\n"
       "        return [v for v, raw in zip(cleaned, resource_json) if not (v is None and raw is not None)]\n")
if old not in s:
    sys.exit("moto.sh: moto's cloudformation/parsing.py has changed; the AWS::NoValue patch does not apply")
open(p, "w").write(s.replace(old, new))
PY
}

install() {
  if [ -f "$root/usr/lib/python3/dist-packages/moto/__init__.py" ]; then openapi_shim; fi
  if installed; then patch_novalue; return 0; fi
  mkdir -p "$cache"
  need=""
  for p in $deps; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need="$need $p"
  done
  if [ -n "$need" ]; then
    echo "moto.sh: installing from bookworm:$need" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
  fi
  apt="$cache/apt"
  mkdir -p "$apt/lists/partial" "$apt/archives/partial" "$apt/etc"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" >"$apt/etc/sources.list"
  opts=(-o "Dir::Etc::SourceList=$apt/etc/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
        -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache::Archives=$apt/archives"
        -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache=" -o "APT::Get::List-Cleanup=0")
  echo "moto.sh: fetching python3-moto and python3-jsonpath-ng from trixie" >&2
  apt-get "${opts[@]}" update -qq >/dev/null
  (cd "$apt/archives" && apt-get "${opts[@]}" download python3-moto python3-jsonpath-ng >/dev/null)
  deb=$(ls "$apt"/archives/python3-moto_*.deb | head -n1)
  rm -rf "$root"
  dpkg -x "$deb" "$root"
  dpkg -x "$(ls "$apt"/archives/python3-jsonpath-ng_*.deb | head -n1)" "$root"
  openapi_shim
  installed || { echo "moto.sh: moto unpacked from $deb but 'import moto.server, jsonpath_ng.ext' fails" >&2; exit 1; }
  patch_novalue
  echo "moto.sh: installed $(basename "$deb")" >&2
}

start() {
  port=${1:-5055}
  install
  stop >/dev/null 2>&1 || true
  PYTHONPATH=$(pythonpath) nohup "$py" -m moto.server -H 127.0.0.1 -p "$port" >"$cache/moto.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 100); do
    if curl -fs -o /dev/null "http://127.0.0.1:$port/moto-api/"; then
      echo "http://127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "moto.sh: moto did not answer on 127.0.0.1:$port; see $cache/moto.log" >&2
  exit 1
}

stop() {
  [ -f "$pidfile" ] || return 0
  kill "$(cat "$pidfile")" 2>/dev/null || true
  rm -f "$pidfile"
}

case "${1:-}" in
  install) install ;;
  start) shift; start "$@" ;;
  stop) stop ;;
  *) echo "usage: $0 install|start [PORT]|stop" >&2; exit 2 ;;
esac
