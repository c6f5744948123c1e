#!/usr/bin/env bash
# install_deb: `cpack -G DEB` builds overstap_<version>_<arch>.deb, and the
# package is what it should be: control fields and Depends (from
# dpkg-shlibdeps), the file list with owners and modes, the conffile, the
# debconf templates, stripped binaries that run, a unit with the /usr paths,
# lintian without an error or a warning, and maintainer scripts that do the
# right thing in each case (run against stub commands that record what they
# are asked to do; nothing on this machine is changed).
# Usage: test_deb.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/lib.sh"

VERSION=$(project_version)
ARCH=$(dpkg --print-architecture)
DEB=$TMP/out/overstap_${VERSION}_${ARCH}.deb

# ---- 1. build it ----------------------------------------------------------------
cpack --config "$BUILD/CPackConfig.cmake" -G DEB -B "$TMP/out" > "$TMP/cpack.log" 2>&1 ||
	{ cat "$TMP/cpack.log" >&2; fail "cpack -G DEB failed"; }
[ -f "$DEB" ] || fail "no $DEB; cpack made: $(ls "$TMP/out")"
debs=("$TMP"/out/*.deb)
[ ${#debs[@]} = 1 ] || fail "more than one .deb: ${debs[*]}"
ok "built $(basename "$DEB")"

# ---- 2. control fields ----------------------------------------------------------
field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = overstap ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$VERSION" ] || fail "Version: $(field Version)"
[ "$(field Architecture)" = "$ARCH" ] || fail "Architecture: $(field Architecture)"
[ "$(field Section)" = admin ] || fail "Section: $(field Section)"
maint=$(sed -n 's/^OVERSTAP_DEB_MAINTAINER:STRING=//p' "$BUILD/CMakeCache.txt")
[ "$(field Maintainer)" = "$maint" ] || fail "Maintainer: $(field Maintainer), configured: $maint"
case $maint in *"<"*@*.*">") ;; *) fail "Maintainer is not 'Name <address>': $maint" ;; esac
desc=$(field Description)
[ "${desc%%$'\n'*}" = "warm handover of pupils' dossiers from school to MBO" ] ||
	fail "Description: ${desc%%$'\n'*}"
ok "control fields"
# Depends: package names with the version constraints taken off
field Depends | tr ',' '\n' | sed -E 's/^ +//; s/ *\(.*\)//; s/ +$//' | sort > "$TMP/depends"
for dep in libzmq5 libprotobuf-c1 libssl3 libsqlite3-0 libinih1 libcsv3 libsystemd0 libc6 \
	   systemd-sysusers systemd-tmpfiles init-system-helpers; do
	grep -qxF "$dep" "$TMP/depends" || fail "Depends lacks $dep: $(field Depends)"
done
grep -qxF "debconf | debconf-2.0" "$TMP/depends" || fail "Depends lacks debconf: $(field Depends)"
ok "Depends: $(tr '\n' ' ' < "$TMP/depends")"
# Dutch for staff needs a generated nl_NL.UTF-8 (design.md §10)
[ "$(field Recommends)" = locales ] || fail "Recommends is '$(field Recommends)', not locales"
ok "Recommends: locales"

# ---- 3. files, owners, modes ------------------------------------------------------
dpkg-deb -c "$DEB" > "$TMP/contents"
awk '$1 !~ /^d/ { print $6 }' "$TMP/contents" | sed 's#^\./##' | sort > "$TMP/files"
want=$(package_files)
[ "$(cat "$TMP/files")" = "$want" ] || fail "package file list differs:
$(diff <(echo "$want") "$TMP/files")"
ok "file list"
if awk '$2 != "root/root"' "$TMP/contents" | grep . >&2; then fail "files not owned by root/root"; fi
while read -r perm _owner _size _date _time path; do
	case $path in
	./usr/sbin/overstapd|./usr/sbin/overstap-web|./usr/bin/overstap) want_perm=-rwxr-xr-x ;;
	*/) want_perm=drwxr-xr-x ;;
	*) want_perm=-rw-r--r-- ;;
	esac
	[ "$perm" = "$want_perm" ] || fail "$path: $perm, expected $want_perm"
done < "$TMP/contents"
ok "owners and modes"

# ---- 4. control archive: conffiles and maintainer scripts -----------------------------
dpkg-deb -e "$DEB" "$TMP/control"
[ "$(cat "$TMP/control/conffiles")" = /etc/overstap/overstapd.conf ] ||
	fail "conffiles: $(cat "$TMP/control/conffiles")"
ok "conffiles"
for s in config postinst prerm postrm; do
	f=$TMP/control/$s
	[ -x "$f" ] || fail "$s is missing or not executable"
	[ "$(head -1 "$f")" = "#!/bin/sh" ] || fail "$s does not start with #!/bin/sh"
	grep -qx 'set -e' "$f" || fail "$s has no 'set -e'"
	sh -n "$f" || fail "$s: syntax error"
	if grep -n '@[A-Z_]*@' "$f" >&2; then fail "$s has unsubstituted @VARIABLES@"; fi
	if command -v checkbashisms > /dev/null; then
		checkbashisms "$f" || fail "$s: bashisms"
	fi
done
ok "maintainer scripts present, POSIX sh"
# debconf: the purge question, a boolean that defaults to no
T=$TMP/control/templates
[ -f "$T" ] || fail "no debconf templates"
[ "$(stat -c %a "$T")" = 644 ] || fail "templates: mode $(stat -c %a "$T")"
expect_line "$T" "Template: overstap/purge_data"
expect_line "$T" "Type: boolean"
expect_line "$T" "Default: false"
expect_line "$T" "Description: Remove the keys and the store?"
grep -q '^\. /usr/share/debconf/confmodule$' "$TMP/control/postinst" ||
	fail "postinst does not load debconf (dpkg -i would not register the templates)"
ok "debconf templates"

# ---- 4b. lintian: no error, no warning -------------------------------------------------
# Overrides, if ever needed, go with a reason in the override file; there are none.
command -v lintian > /dev/null || fail "lintian is not installed (scripts/setup installs it)"
lintian --fail-on error,warning --tag-display-limit 0 "$DEB" > "$TMP/lintian" 2>&1 ||
	{ cat "$TMP/lintian" >&2; fail "lintian found errors or warnings"; }
if grep -E '^[EW]: ' "$TMP/lintian" >&2; then fail "lintian: errors or warnings"; fi
ok "lintian: $(grep -cE '^[IPX]: ' "$TMP/lintian" || true) informational tags, nothing else"

# ---- 5. what the package installs -----------------------------------------------------
X=$TMP/x
dpkg-deb -x "$DEB" "$X"
XU=$X/usr/lib/systemd/system/overstapd.service
expect_line "$XU" "ExecStart=/usr/sbin/overstapd -c /etc/overstap/overstapd.conf"
expect_line "$XU" "ConfigurationDirectory=overstap"
expect_line "$XU" "Type=notify"
expect_grep "$X/usr/lib/tmpfiles.d/overstap.conf" '^d +/etc/overstap +0750 +root +overstap +-$'
cmp -s "$X/etc/overstap/overstapd.conf" "$SRC/config/overstapd.conf" ||
	fail "the packaged config is not config/overstapd.conf"
for b in usr/sbin/overstapd usr/bin/overstap; do
	what=$(file "$X/$b")
	case $what in *", stripped"*) ;; *) fail "$b is not stripped: $what" ;; esac
done
[ "$("$X/usr/sbin/overstapd" --version)" = "overstapd $VERSION" ] || fail "packaged overstapd --version"
[ "$("$X/usr/bin/overstap" --version)" = "overstap $VERSION" ] || fail "packaged overstap --version"
expect_dutch "$X/usr/bin/overstap"
ok "packaged unit, config and binaries"
# Documentation: DEP-5 copyright, a changelog for this version, the
# administrator's README, the report schema
D=$X/usr/share/doc/overstap
head -1 "$D/copyright" | grep -qxF "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/" ||
	fail "copyright is not machine-readable (DEP-5)"
expect_grep "$D/copyright" '^Files: \*$'
expect_grep "$D/copyright" '^License: '
zcat "$D/changelog.gz" > "$TMP/changelog"
[ "$(dpkg-parsechangelog -l "$TMP/changelog" -S Version)" = "$VERSION" ] ||
	fail "changelog's newest entry is $(dpkg-parsechangelog -l "$TMP/changelog" -S Version), the package $VERSION: add an entry to cmake/deb/changelog.in"
[ "$(dpkg-parsechangelog -l "$TMP/changelog" -S Maintainer)" = "$maint" ] ||
	fail "changelog's maintainer: $(dpkg-parsechangelog -l "$TMP/changelog" -S Maintainer)"
cmp -s "$D/README.Debian" "$SRC/cmake/deb/README.Debian" || fail "README.Debian is not cmake/deb/README.Debian"
[ ! -e "$D/README.md" ] || fail "the developer's README.md is in the package"
cmp -s "$D/report-schema.json" "$SRC/docs/report-schema.json" || fail "report-schema.json"
cmp -s "$D/report-json.md" "$SRC/docs/report-json.md" || fail "report-json.md"
for m in man1/overstap.1 man5/overstapd.conf.5 man8/overstapd.8; do
	gzip -t "$X/usr/share/man/$m.gz" || fail "$m.gz"
done
ok "documentation"
# The unit passes systemd-analyze with its binary where the package puts it.
sed "s#^ExecStart=/usr/sbin/#ExecStart=$X/usr/sbin/#" "$XU" > "$TMP/overstapd.service"
MANPATH=$X/usr/share/man systemd-analyze verify "$TMP/overstapd.service" > "$TMP/verify" 2>&1 ||
	{ cat "$TMP/verify" >&2; fail "systemd-analyze verify of the packaged unit"; }
[ ! -s "$TMP/verify" ] || { cat "$TMP/verify" >&2; fail "systemd-analyze verify warned"; }
systemd-analyze security --offline=yes --threshold=20 "$XU" > /dev/null 2>&1 ||
	fail "packaged unit: exposure above 2.0"
ok "packaged unit verified"

# ---- 6. maintainer scripts against stubs ------------------------------------------------
# Every command they run (as opposed to shell builtins) is a stub that logs
# "name args" and succeeds, unless STUB_FAIL names it ("name" or "name:arg1")
# or "name args" contains one of the '|'-separated STUB_FAIL_MATCH. `ls`
# prints a key file when STUB_KEYS is set. /run/systemd/system is replaced
# by a directory of ours, to play "systemd is running" or not; debconf's
# confmodule by one that logs the calls and answers STUB_ANSWER (default:
# the template's default, false); /var/lib/overstap by $STATE.
STUBS=$TMP/stubs
mkdir -p "$STUBS"
cat > "$STUBS/stub" <<'EOF'
#!/bin/sh
name=$(basename "$0")
echo "$name $*" >> "$STUB_LOG"
case " ${STUB_FAIL:-} " in *" $name "*|*" $name:$1 "*) exit 1 ;; esac
line="$name $*"
IFS='|'
for pat in ${STUB_FAIL_MATCH:-}; do
	case $line in *"$pat"*) echo "$name: stub failure" >&2; exit 1 ;; esac
done
if [ "$name" = ls ] && [ -n "${STUB_KEYS:-}" ]; then echo curve.key; fi
exit 0
EOF
chmod +x "$STUBS/stub"
for c in systemd-sysusers systemd-tmpfiles runuser systemctl deb-systemd-helper deb-systemd-invoke \
	 ls rm rmdir; do
	ln -s stub "$STUBS/$c"
done
cat > "$TMP/confmodule" <<'EOF'
db_input() { echo "db_input $*" >> "$STUB_LOG"; return 30; }
db_go() { echo "db_go" >> "$STUB_LOG"; }
db_get() { echo "db_get $*" >> "$STUB_LOG"; RET=${STUB_ANSWER:-false}; }
db_purge() { echo "db_purge" >> "$STUB_LOG"; }
EOF
SYSTEMD_DIR=$TMP/run-systemd-system
STATE=$TMP/state
for s in postinst prerm postrm; do
	sed -e "s#/run/systemd/system#$SYSTEMD_DIR#g" -e "s#/usr/share/debconf/confmodule#$TMP/confmodule#g" \
	    -e "s#^STATE=/var/lib/overstap\$#STATE=$STATE#" "$TMP/control/$s" > "$TMP/$s"
	chmod +x "$TMP/$s"
done
grep -q "$SYSTEMD_DIR" "$TMP/postinst" || fail "postinst does not look for /run/systemd/system"
grep -q "^STATE=$STATE\$" "$TMP/postrm" || fail "postrm has no STATE=/var/lib/overstap"

# run_script SYSTEMD(yes|no) SCRIPT ARGS...: runs it, leaves its log in $TMP/log
run_script() {
	local running=$1 script=$2
	shift 2
	rm -rf "$SYSTEMD_DIR"; [ "$running" = no ] || mkdir -p "$SYSTEMD_DIR"
	: > "$TMP/log"
	STUB_LOG=$TMP/log PATH=$STUBS:$PATH "$TMP/$script" "$@" > /dev/null 2> "$TMP/script.err"
}
# expect_log "line" ...: the stubs were called exactly so, in this order
expect_log() {
	local want
	want=$(printf '%s\n' "$@")
	[ "$(cat "$TMP/log")" = "$want" ] || fail "$CASE: commands run:
$(cat "$TMP/log")
expected:
$want"
	ok "$CASE"
}
# expect_err TEXT: the script said so on stderr
expect_err() {
	grep -qF -- "$1" "$TMP/script.err" || fail "$CASE: stderr lacks '$1':
$(cat "$TMP/script.err")"
}
U=overstapd.service
SETUP=("systemd-sysusers overstap.conf" "systemd-sysusers overstap-web.conf" "systemd-tmpfiles --create overstap.conf"
       "ls -A /var/lib/overstap/keys")
KEYGEN="runuser -u overstap -- /usr/bin/overstap keys gen --dir /var/lib/overstap/keys"
CONF_CHECK="runuser -u overstap -- /usr/sbin/overstapd -t -c /etc/overstap/overstapd.conf"
ENABLE=("deb-systemd-helper --quiet was-enabled $U" "deb-systemd-helper enable $U")
# The example's placeholder id, say: overstapd -t fails
NOT_READY="overstapd -t"

CASE="postinst: first install under systemd, placeholder id: neither enabled nor started"
STUB_FAIL_MATCH=$NOT_READY run_script yes postinst configure || fail "$CASE: exit $?"
expect_log "${SETUP[@]}" "$KEYGEN" "deb-systemd-helper unmask $U" "$CONF_CHECK" \
	"deb-systemd-helper update-state $U" "systemctl --system daemon-reload"
expect_err "overstapd is not started"
expect_err "    runuser: stub failure"		# what overstapd -t said, indented
expect_err "set [institution] id"
expect_err "systemctl enable --now $U"
expect_err "/usr/share/doc/overstap/README.Debian"

CASE="postinst: first install, no systemd, placeholder id"
STUB_FAIL_MATCH=$NOT_READY run_script no postinst configure || fail "$CASE: exit $?"
expect_log "${SETUP[@]}" "$KEYGEN" "deb-systemd-helper unmask $U" "$CONF_CHECK" \
	"deb-systemd-helper update-state $U"

CASE="postinst: first install under systemd with a configuration that passes"
run_script yes postinst configure || fail "$CASE: exit $?"
expect_log "${SETUP[@]}" "$KEYGEN" "deb-systemd-helper unmask $U" "$CONF_CHECK" "${ENABLE[@]}" \
	"systemctl --system daemon-reload" "deb-systemd-invoke start $U"

CASE="postinst: upgrade with keys, under systemd"
STUB_KEYS=1 run_script yes postinst configure 0.0.9 || fail "$CASE: exit $?"
expect_log "${SETUP[@]}" "deb-systemd-helper unmask $U" "$CONF_CHECK" "${ENABLE[@]}" \
	"systemctl --system daemon-reload" "deb-systemd-invoke restart $U"

CASE="postinst: upgrade keeps a unit the administrator disabled disabled"
STUB_KEYS=1 STUB_FAIL_MATCH=was-enabled run_script yes postinst configure 0.0.9 || fail "$CASE: exit $?"
expect_log "${SETUP[@]}" "deb-systemd-helper unmask $U" "$CONF_CHECK" \
	"deb-systemd-helper --quiet was-enabled $U" "deb-systemd-helper update-state $U" \
	"systemctl --system daemon-reload" "deb-systemd-invoke restart $U"

CASE="postinst: upgrade with a configuration that fails: not restarted"
STUB_KEYS=1 STUB_FAIL_MATCH=$NOT_READY run_script yes postinst configure 0.0.9 || fail "$CASE: exit $?"
expect_log "${SETUP[@]}" "deb-systemd-helper unmask $U" "$CONF_CHECK" \
	"deb-systemd-helper update-state $U" "systemctl --system daemon-reload"
expect_err "overstapd is not started"

CASE="postinst: a failed start does not fail the installation"
STUB_FAIL_MATCH="deb-systemd-invoke start" run_script yes postinst configure || fail "$CASE: exit $?"
expect_err "did not start"
ok "$CASE"

CASE="postinst: a failed key generation fails the installation"
if STUB_FAIL=runuser run_script no postinst configure; then fail "$CASE: exit 0"; fi
ok "$CASE"

CASE="prerm remove under systemd"
run_script yes prerm remove || fail "$CASE: exit $?"
expect_log "deb-systemd-invoke stop $U"

CASE="prerm remove, no systemd"
run_script no prerm remove || fail "$CASE: exit $?"
expect_log

CASE="prerm upgrade keeps it running"
run_script yes prerm upgrade 0.2.0 || fail "$CASE: exit $?"
expect_log

CASE="postrm remove keeps the state"
run_script no postrm remove || fail "$CASE: exit $?"
expect_log "deb-systemd-helper mask $U"

PURGE_UNIT=("deb-systemd-helper purge $U" "deb-systemd-helper unmask $U"
	    "rm -f /etc/systemd/system/multi-user.target.wants/$U" "rm -rf /run/overstap")
ASK=("db_input high overstap/purge_data" "db_go" "db_get overstap/purge_data" "db_purge")
mkdir -p "$STATE"

CASE="postrm purge asks, and by default keeps the keys and the store"
run_script yes postrm purge || fail "$CASE: exit $?"
expect_log "${ASK[@]}" "systemctl --system daemon-reload" "${PURGE_UNIT[@]}" "rmdir /etc/overstap"
expect_err "kept the keys and the store in $STATE"

CASE="postrm purge deletes the keys and the store when told yes"
STUB_ANSWER=true run_script no postrm purge || fail "$CASE: exit $?"
expect_log "${ASK[@]}" "${PURGE_UNIT[@]}" "rm -rf $STATE" "rmdir /etc/overstap"

CASE="postrm purge without /var/lib/overstap asks nothing"
rmdir "$STATE"
run_script no postrm purge || fail "$CASE: exit $?"
expect_log "db_purge" "${PURGE_UNIT[@]}" "rmdir /etc/overstap"

echo "install_deb: $CHECKS checks passed ($(basename "$DEB"))"
