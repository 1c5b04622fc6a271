#!/usr/bin/env bash
# Install everything the tests need, then run them. Extra arguments go to pytest.
#   Debian packages (installed with apt-get when missing and running as root):
#     fluidsynth, fluid-soundfont-gm  - render the test corpora
#     opl3-soundfont, espeak-ng       - a second sample set and the speech of the negatives
#     chromium                        - the end-to-end tests drive the page in a real browser
#     docker.io, debootstrap,         - the container tests build the image (docker/build-local.sh),
#     docker-compose                    run it and compose.yaml; the engine (dockerd) is started
#                                       here when none answers, and left running
#   Python: this package with its [test] extras, editable.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v fluidsynth >/dev/null 2>&1 || missing+=(fluidsynth)
[ -f /usr/share/sounds/sf2/FluidR3_GM.sf2 ] || missing+=(fluid-soundfont-gm)
[ -f /usr/share/sounds/sf2/OPL-3_FM_128M.sf2 ] || missing+=(opl3-soundfont)
command -v espeak-ng >/dev/null 2>&1 || missing+=(espeak-ng)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ "$(id -u)" = 0 ]; then  # the container tests need root for the engine and debootstrap
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
fi

# a Docker engine for the container tests, when none answers and one can be started
if [ "$(id -u)" = 0 ] && command -v dockerd >/dev/null 2>&1 && ! docker info >/dev/null 2>&1; then
  echo "starting the Docker engine (dockerd; its log: /var/log/auralens-dockerd.log)"
  nohup dockerd >/var/log/auralens-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || echo "the Docker engine did not start (see /var/log/auralens-dockerd.log);" \
    "the container tests will be skipped" >&2
fi

python -m pip install -q --disable-pip-version-check -e ".[test]"
# the optional pretrained sound-effects encoder (its own pins do not install on current Python)
python -m pip install -q --disable-pip-version-check --no-deps "aisfx==0.1.2"
exec python -m pytest "$@"
