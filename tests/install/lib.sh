# shellcheck shell=bash disable=SC2034
# (SC2034: the variables below are for the scripts that source this file.)
# Shared by the tests in tests/install (sourced, bash). Each test gets
#   BUILD  the build directory (argument 1)
#   SRC    the source directory (argument 2)
#   TMP    a scratch directory, removed on exit unless OVERSTAP_KEEP_TMP is set
# and these helpers. A failed check prints what was expected and exits 1.

set -eu
set -o pipefail

[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR SOURCE_DIR" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
SRC=$(cd "$2" && pwd)
TEST_NAME=$(basename "$0" .sh)
TMP=$(mktemp -d "${TMPDIR:-/tmp}/overstap-$TEST_NAME.XXXXXX")
CLEANUP_HOOKS=()

cleanup() {
	local rc=$? h
	for h in "${CLEANUP_HOOKS[@]+"${CLEANUP_HOOKS[@]}"}"; do
		eval "$h" || true
	done
	if [ -n "${OVERSTAP_KEEP_TMP:-}" ]; then
		echo "$TEST_NAME: kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CHECKS=0
fail() {
	echo "FAIL ($TEST_NAME): $*" >&2
	exit 1
}
ok() {
	CHECKS=$((CHECKS + 1))
	[ -z "${VERBOSE:-}" ] || echo "ok: $*"
}

# The project's version, as configured.
project_version() {
	sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BUILD/CMakeCache.txt"
}

# expect_file PATH MODE: a regular file with exactly this octal mode.
expect_file() {
	[ -f "$1" ] || fail "missing file $1"
	local m
	m=$(stat -c %a "$1")
	[ "$m" = "$2" ] || fail "$1: mode $m, expected $2"
	ok "file $1 ($2)"
}

# expect_dutch CLI: the CLI at this path finds the Dutch catalog installed
# beside it (prefix/share/locale, daemon/i18n.c), with no help from the build
# tree; C.UTF-8 needs no generated locale.
expect_dutch() {
	local out
	out=$(env -u OVERSTAP_LOCALEDIR -u LC_MESSAGES -u LANG LC_ALL=C.UTF-8 LANGUAGE=nl "$1" --help) ||
		fail "$1 --help failed"
	case $out in
	*"gebruik: overstap"*) ;;
	*) fail "$1 does not find its Dutch catalog: $(echo "$out" | head -1)" ;;
	esac
	ok "$1 speaks Dutch from its installed catalog"
}

# expect_line FILE LINE: FILE has this exact line.
expect_line() {
	grep -qxF -- "$2" "$1" || fail "$1: no line '$2'"
	ok "$1: $2"
}

# expect_grep FILE ERE: some line of FILE matches.
expect_grep() {
	grep -qE -- "$2" "$1" || fail "$1: nothing matches /$2/"
	ok "$1 =~ /$2/"
}

# The files every install has, relative to the prefix. The config
# and man pages are checked separately where their place depends on it.
INSTALLED_UNDER_PREFIX="bin/overstap
lib/systemd/system/overstap-web.service
lib/systemd/system/overstapd.service
lib/sysusers.d/overstap-web.conf
lib/sysusers.d/overstap.conf
lib/tmpfiles.d/overstap.conf
sbin/overstap-web
sbin/overstapd
share/bash-completion/completions/overstap
share/doc/overstap/README.Debian
share/doc/overstap/README.systemd.md
share/doc/overstap/changelog.gz
share/doc/overstap/copyright
share/doc/overstap/report-json.md
share/doc/overstap/report-schema.json
share/doc/overstap/web.conf.example
share/locale/nl/LC_MESSAGES/overstap-web.mo
share/locale/nl/LC_MESSAGES/overstap.mo
share/man/man1/overstap.1.gz
share/man/man5/overstapd.conf.5.gz
share/man/man8/overstap-web.8.gz
share/man/man8/overstapd.8.gz"
# and whatever docs/examples holds, when it exists (installed as it was at
# configure time: compare with a freshly configured build); sorted as the
# tests sort what they find.
INSTALLED_UNDER_PREFIX=$( { echo "$INSTALLED_UNDER_PREFIX"
	if [ -d "$SRC/docs/examples" ]; then
		(cd "$SRC/docs/examples" && find . -type f | sed 's#^\./#share/doc/overstap/examples/#')
	fi; } | sort)

# The same as the package has them: under /usr, the config in /etc.
package_files() {
	local f
	{ while read -r f; do echo "usr/$f"; done <<< "$INSTALLED_UNDER_PREFIX"
	  echo etc/overstap/overstapd.conf; } | sort
}

# The installed example config with its paths moved into directory $2, the
# keys generated there with the installed CLI $3, the control group set
# to one that exists here, and a real id for the placeholder, which the
# daemon refuses. Writes $2/overstapd.conf.
localize_config() {
	local conf=$1 dir=$2 cli=$3
	mkdir -p "$dir/run"
	"$cli" keys gen --dir "$dir/keys" >/dev/null
	sed -e "s#^id = 99XX00\$#id = 25LZ00#" \
	    -e "s#^keys_dir = /var/lib/overstap/keys\$#keys_dir = $dir/keys#" \
	    -e "s#^path = /var/lib/overstap/store.db\$#path = $dir/store.db#" \
	    -e "s#^socket = /run/overstap/control.sock\$#socket = $dir/run/control.sock#" \
	    -e "s#^group = overstap\$#group = $(id -gn)#" \
	    "$conf" > "$dir/overstapd.conf"
	# every path was rewritten: nothing of the system's is left
	if grep -nE '^(keys_dir|path|socket|group) = (/var/lib|/run)/overstap|^group = overstap$|^id = 99XX00$' \
		"$dir/overstapd.conf" >&2; then
		fail "localize_config: the example's paths are not the packaged ones"
	fi
}

# A free TCP port on 127.0.0.1 (racy, but good enough for a test).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
