#!/usr/bin/env bash
# install_deb: `cpack -G DEB` builds overstap_<version>_<arch>.deb, and the
# package is what it should be: control fields and Depends (from
# dpkg-shlibdeps), the file list with owners and modes, the conffile, stripped
# binaries that run, a unit with the /usr paths, and maintainer scripts that
# do the right thing in each case (run against stub commands that record
# what they are asked to do; nothing on this machine is changed).
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
[ -n "$(field Maintainer)" ] || fail "no Maintainer"
desc=$(field Description)
[ "${desc%%$'\n'*}" = "warm handover of pupils' dossiers from school to MBO" ] ||
	fail "Description: ${desc%%$'\n'*}"
ok "control fields"
# Depends: package names with the version constraints taken off
field Depends | tr ',' '\n' | sed -E 's/^ +//; s/ *\(.*\)//; s/ +$//' | sort > "$TMP/depends"
for dep in libzmq5 libprotobuf-c1 libssl3 libsqlite3-0 libinih1 libcsv3 libsystemd0 libc6 \
	   systemd-sysusers systemd-tmpfiles; do
	grep -qxF "$dep" "$TMP/depends" || fail "Depends lacks $dep: $(field Depends)"
done
ok "Depends: $(tr '\n' ' ' < "$TMP/depends")"

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
	./usr/sbin/overstapd|./usr/bin/overstap) want_perm=-rwxr-xr-x ;;
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
for s in postinst prerm postrm; do
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
ok "packaged unit, config and binaries"
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
# "name args" and succeeds, unless STUB_FAIL names it ("name" or "name:arg1").
# `ls` prints a key file when STUB_KEYS is set. /run/systemd/system is
# replaced by a directory of ours, to play "systemd is running" or not.
STUBS=$TMP/stubs
mkdir -p "$STUBS"
cat > "$STUBS/stub" <<'EOF'
#!/bin/sh
name=$(basename "$0")
echo "$name $*" >> "$STUB_LOG"
case " ${STUB_FAIL:-} " in *" $name "*|*" $name:$1 "*) exit 1 ;; esac
if [ "$name" = ls ] && [ -n "${STUB_KEYS:-}" ]; then echo curve.key; fi
exit 0
EOF
chmod +x "$STUBS/stub"
for c in systemd-sysusers systemd-tmpfiles runuser systemctl ls rm rmdir; do
	ln -s stub "$STUBS/$c"
done
SYSTEMD_DIR=$TMP/run-systemd-system
for s in postinst prerm postrm; do
	sed "s#/run/systemd/system#$SYSTEMD_DIR#g" "$TMP/control/$s" > "$TMP/$s"
	chmod +x "$TMP/$s"
done
grep -q "$SYSTEMD_DIR" "$TMP/postinst" || fail "postinst does not look for /run/systemd/system"

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
SETUP=("systemd-sysusers overstap.conf" "systemd-tmpfiles --create overstap.conf"
       "ls -A /var/lib/overstap/keys")
KEYGEN="runuser -u overstap -- /usr/bin/overstap keys gen --dir /var/lib/overstap/keys"

CASE="postinst: first install, no systemd"
run_script no postinst configure || fail "$CASE: exit $?"
expect_log "${SETUP[@]}" "$KEYGEN"

CASE="postinst: first install under systemd"
run_script yes postinst configure || fail "$CASE: exit $?"
expect_log "${SETUP[@]}" "$KEYGEN" "systemctl daemon-reload" \
	"systemctl enable overstapd.service" "systemctl start overstapd.service"

CASE="postinst: upgrade with keys, under systemd"
STUB_KEYS=1 run_script yes postinst configure 0.0.9 || fail "$CASE: exit $?"
expect_log "${SETUP[@]}" "systemctl daemon-reload" "systemctl try-restart overstapd.service"

CASE="postinst: a failed start does not fail the installation"
STUB_FAIL=systemctl:start run_script yes postinst configure || fail "$CASE: exit $?"
grep -q "did not start" "$TMP/script.err" || fail "$CASE: no message about the failed start"
ok "$CASE"

CASE="postinst: a failed key generation fails the installation"
if STUB_FAIL=runuser run_script no postinst configure; then fail "$CASE: exit 0"; fi
ok "$CASE"

CASE="prerm remove under systemd"
run_script yes prerm remove || fail "$CASE: exit $?"
expect_log "systemctl stop overstapd.service" "systemctl disable overstapd.service"

CASE="prerm remove, no systemd"
run_script no prerm remove || fail "$CASE: exit $?"
expect_log

CASE="prerm upgrade keeps it running"
run_script yes prerm upgrade 0.2.0 || fail "$CASE: exit $?"
expect_log

CASE="postrm remove keeps the state"
run_script no postrm remove || fail "$CASE: exit $?"
expect_log

CASE="postrm purge deletes the state"
run_script yes postrm purge || fail "$CASE: exit $?"
expect_log "rm -rf /var/lib/overstap /run/overstap" \
	"rm -f /etc/systemd/system/multi-user.target.wants/overstapd.service" \
	"rmdir /etc/overstap" "systemctl daemon-reload"

echo "install_deb: $CHECKS checks passed ($(basename "$DEB"))"
