#!/usr/bin/env bash
# install_tree: `cmake --install` into a temporary prefix and with DESTDIR, and
# what it installs: binaries that run, the systemd unit (verified by
# systemd-analyze, exposure at most 2.0), sysusers.d and tmpfiles.d snippets
# that systemd's own tools accept, man pages that man finds and renders, and
# an example configuration that documents every key and passes overstapd -t.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/lib.sh"

VERSION=$(project_version)
[ -n "$VERSION" ] || fail "no CMAKE_PROJECT_VERSION in $BUILD/CMakeCache.txt"

# ---- 1. cmake --install --prefix P ----------------------------------------------
P=$TMP/prefix
cmake --install "$BUILD" --prefix "$P" > "$TMP/install.log" ||
	{ cat "$TMP/install.log" >&2; fail "cmake --install --prefix failed"; }

got=$(cd "$P" && find . -type f | sed 's#^\./##' | grep -v '^etc/' | sort)
[ "$got" = "$INSTALLED_UNDER_PREFIX" ] ||
	fail "installed files differ from the expected set:
$(diff <(echo "$INSTALLED_UNDER_PREFIX") <(echo "$got"))"
ok "file list under the prefix"
[ "$(cd "$P" && find etc -type f | sort)" = "etc/overstap/overstapd.conf" ] ||
	fail "expected only etc/overstap/overstapd.conf under $P/etc"

expect_file "$P/sbin/overstapd" 755
expect_file "$P/bin/overstap" 755
for f in lib/systemd/system/overstapd.service lib/sysusers.d/overstap.conf \
	 lib/tmpfiles.d/overstap.conf etc/overstap/overstapd.conf \
	 share/man/man1/overstap.1.gz share/man/man5/overstapd.conf.5.gz \
	 share/man/man8/overstapd.8.gz share/doc/overstap/README.Debian \
	 share/doc/overstap/copyright share/doc/overstap/changelog.gz \
	 share/locale/nl/LC_MESSAGES/overstap.mo; do
	expect_file "$P/$f" 644
done
expect_dutch "$P/bin/overstap"
# The administrator's README, not the developer's
if grep -q 'scripts/demo' "$P/share/doc/overstap/README.Debian"; then
	fail "README.Debian explains the developer's scripts"
fi
expect_grep "$P/share/doc/overstap/README.Debian" 'Remove the keys and the store\?'
cmp -s "$P/share/doc/overstap/report-schema.json" "$SRC/docs/report-schema.json" ||
	fail "share/doc/overstap/report-schema.json is not docs/report-schema.json"
# Compressed as dh_compress does: gzip -9n, no name and no time stamp in the header
for f in share/man/man1/overstap.1.gz share/doc/overstap/changelog.gz; do
	gzip -t "$P/$f" || fail "$f is not gzip"
	[ "$(od -An -tx1 -j4 -N4 "$P/$f" | tr -d ' ')" = 00000000 ] || fail "$f: gzip has a time stamp"
	[ "$(od -An -tx1 -j3 -N1 "$P/$f" | tr -d ' ')" = 00 ] || fail "$f: gzip has a file name"
done
ok "documentation"

# ---- 2. the installed binaries run ----------------------------------------------
"$P/sbin/overstapd" --help > "$TMP/out" || fail "overstapd --help exited $?"
expect_grep "$TMP/out" '^Usage: overstapd '
"$P/sbin/overstapd" --version > "$TMP/out" || fail "overstapd --version exited $?"
expect_line "$TMP/out" "overstapd $VERSION"
"$P/bin/overstap" --help > "$TMP/out" || fail "overstap --help exited $?"
expect_grep "$TMP/out" '^usage: overstap '
"$P/bin/overstap" --version > "$TMP/out" || fail "overstap --version exited $?"
expect_line "$TMP/out" "overstap $VERSION"
"$P/bin/overstap" keys gen --help > "$TMP/out" || fail "overstap keys gen --help exited $?"
expect_grep "$TMP/out" 'keys gen --dir DIR'

# ---- 3. the unit ---------------------------------------------------------------
U=$P/lib/systemd/system/overstapd.service
# shellcheck disable=SC2016 # $MAINPID is literal in the unit
for line in "Type=notify" "NotifyAccess=main" "WatchdogSec=30s" \
	"ExecStart=$P/sbin/overstapd -c $P/etc/overstap/overstapd.conf" \
	'ExecReload=/bin/kill -HUP $MAINPID' "Restart=on-failure" \
	"User=overstap" "Group=overstap" "UMask=0077" \
	"StateDirectory=overstap" "StateDirectoryMode=0700" \
	"RuntimeDirectory=overstap" "RuntimeDirectoryMode=0750" \
	"CapabilityBoundingSet=" "NoNewPrivileges=yes" "ProtectSystem=strict" \
	"WantedBy=multi-user.target"; do
	expect_line "$U" "$line"
done
# no PrivateUsers=: in a user namespace every caller on the control socket
# would be nobody, and rights come from who the kernel says calls (§4.9)
if grep -q '^PrivateUsers=' "$U"; then fail "$U sets PrivateUsers=: callers would all be nobody"; fi
# no SyslogLevelPrefix=no: journald must read the daemon's <N> prefixes
if grep -q '^SyslogLevelPrefix=' "$U"; then fail "$U overrides SyslogLevelPrefix="; fi
# a prefix outside /usr keeps the configuration out of /etc
if grep -q '^ConfigurationDirectory=' "$U"; then
	fail "$U: ConfigurationDirectory= names /etc/overstap, but the config is in $P/etc"
fi
ok "no ConfigurationDirectory= for prefix $P"

# verify: the binary exists, the man pages of Documentation= are found (via
# MANPATH), and no warning at all (verify exits 0 on unknown settings).
MANPATH=$P/share/man systemd-analyze verify "$U" > "$TMP/verify" 2>&1 ||
	{ cat "$TMP/verify" >&2; fail "systemd-analyze verify $U failed"; }
[ ! -s "$TMP/verify" ] || { cat "$TMP/verify" >&2; fail "systemd-analyze verify printed warnings"; }
ok "systemd-analyze verify"
# and it does check the binary: the same unit pointing elsewhere fails
sed "s#^ExecStart=$P/sbin/overstapd#ExecStart=$TMP/nonexistent/overstapd#" "$U" > "$TMP/overstapd.service"
if MANPATH=$P/share/man systemd-analyze verify "$TMP/overstapd.service" > /dev/null 2>&1; then
	fail "systemd-analyze verify accepts a unit whose binary does not exist"
fi
ok "systemd-analyze verify rejects a missing binary"

systemd-analyze security --offline=yes --threshold=20 "$U" > "$TMP/security" 2>&1 ||
	{ cat "$TMP/security" >&2; fail "systemd-analyze security: exposure above 2.0"; }
score=$(sed -n 's/.*Overall exposure level for overstapd.service: \([0-9.]*\).*/\1/p' "$TMP/security")
[ -n "$score" ] || { cat "$TMP/security" >&2; fail "no exposure level in systemd-analyze security"; }
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "exposure $score > 2.0"
ok "exposure level $score <= 2.0"

# ---- 4. sysusers.d and tmpfiles.d, applied to a scratch root ------------------
R=$TMP/root
mkdir -p "$R/etc"
systemd-sysusers --root="$R" "$P/lib/sysusers.d/overstap.conf" 2> "$TMP/sysusers" ||
	{ cat "$TMP/sysusers" >&2; fail "systemd-sysusers rejected overstap.conf"; }
pw=$(grep '^overstap:' "$R/etc/passwd") || fail "sysusers made no user overstap"
grep -q '^overstap:' "$R/etc/group" || fail "sysusers made no group overstap"
uid=$(echo "$pw" | cut -d: -f3)
gid=$(echo "$pw" | cut -d: -f4)
if [ "$uid" -le 0 ] || [ "$uid" -ge 1000 ]; then fail "overstap uid $uid is not a system uid"; fi
[ "$(grep '^overstap:' "$R/etc/group" | cut -d: -f3)" = "$gid" ] || fail "overstap's primary group is not overstap"
[ "$(echo "$pw" | cut -d: -f6)" = /var/lib/overstap ] || fail "overstap's home is not /var/lib/overstap: $pw"
case $(echo "$pw" | cut -d: -f7) in */nologin) ;; *) fail "overstap can log in: $pw" ;; esac
ok "sysusers: system user and group overstap ($uid:$gid)"

# Owners need root; otherwise fakeroot fakes them (for tmpfiles and stat alike).
# shellcheck disable=SC2016 # expanded by the inner sh
apply_tmpfiles='systemd-tmpfiles --root="$1" --create "$2" && shift 2 &&
	for d in "$@"; do stat -c "%n %a %u %g" "$d"; done'
AS_ROOT=()
if [ "$(id -u)" != 0 ]; then AS_ROOT=(fakeroot); fi
"${AS_ROOT[@]}" sh -c "$apply_tmpfiles" sh "$R" "$P/lib/tmpfiles.d/overstap.conf" \
	"$R$P/etc/overstap" "$R/var/lib/overstap" "$R/var/lib/overstap/keys" "$R/run/overstap" \
	> "$TMP/dirs" 2> "$TMP/tmpfiles" ||
	{ cat "$TMP/tmpfiles" >&2; fail "systemd-tmpfiles --create failed"; }
[ ! -s "$TMP/tmpfiles" ] || { cat "$TMP/tmpfiles" >&2; fail "systemd-tmpfiles warned"; }
check_dir() {	# PATH MODE UID GID
	grep -qxF "$R$1 $2 $3 $4" "$TMP/dirs" ||
		fail "tmpfiles: $1 is '$(grep -F "$R$1 " "$TMP/dirs")', expected mode $2 owner $3:$4"
	ok "tmpfiles: $1 $2 $3:$4"
}
check_dir "$P/etc/overstap" 750 0 "$gid"
check_dir /var/lib/overstap 700 "$uid" "$gid"
check_dir /var/lib/overstap/keys 700 "$uid" "$gid"
check_dir /run/overstap 750 "$uid" "$gid"

# ---- 5. man pages --------------------------------------------------------------
while read -r sec name; do
	where=$(MANPATH=$P/share/man man -w "$sec" "$name") || fail "man -w $sec $name finds nothing"
	[ "$where" = "$P/share/man/man$sec/$name.$sec.gz" ] || fail "man -w $sec $name = $where"
	MANWIDTH=80 man -l "$where" > "$TMP/page" 2> "$TMP/page.err" || fail "man -l $where failed"
	[ ! -s "$TMP/page.err" ] || { cat "$TMP/page.err" >&2; fail "man -l $where warned"; }
	expect_grep "$TMP/page" '^NAME$'
	expect_grep "$TMP/page" "^ +$name - "
done <<'EOF'
1 overstap
5 overstapd.conf
8 overstapd
EOF
MANWIDTH=80 man -l "$P/share/man/man8/overstapd.8.gz" > "$TMP/page" 2>/dev/null
expect_grep "$TMP/page" '^SYSTEMD$'
expect_grep "$TMP/page" 'Type=notify'

# ---- 6. the example configuration ----------------------------------------------
C=$P/etc/overstap/overstapd.conf
expect_line "$C" "keys_dir = /var/lib/overstap/keys"
expect_line "$C" "path = /var/lib/overstap/store.db"
expect_line "$C" "listen = tcp://0.0.0.0:7470"
expect_line "$C" "socket = /run/overstap/control.sock"
expect_line "$C" "group = overstap"
expect_grep "$C" '^id = [0-9]{2}[0-9A-Z]{2}[0-9]{2}$'
expect_grep "$C" '^#\[peer [0-9]{2}[0-9A-Z]{2}[0-9]{2}\]$'
if grep -q '^\[peer ' "$C"; then fail "$C: the example configures an active peer"; fi

# Every key the daemon knows (the tables in daemon/config_keys.c) is documented,
# and a documented default is the daemon's own.
grep -oE '(S_STR|S_NUM)\("[a-z_]+"|\{ "[a-z_]+", T_[A-Z]+' "$SRC/daemon/config_keys.c" |
	grep -oE '"[a-z_]+"' | tr -d '"' | sort -u > "$TMP/keys"
[ "$(wc -l < "$TMP/keys")" -ge 20 ] || fail "found only $(wc -l < "$TMP/keys") keys in daemon/config_keys.c"
while read -r key; do
	grep -qE "^#?$key = " "$C" || fail "$C does not document key '$key'"
done < "$TMP/keys"
ok "$(wc -l < "$TMP/keys") keys documented"
grep -oE 'S_NUM\("[a-z_]+", [^"]*"[^"]*"|\{ "[a-z_]+", T_[A-Z]+, [^"]*"[^"]*"' "$SRC/daemon/config_keys.c" |
	sed -E 's/^[^"]*"([a-z_]+)".*"([^"]*)"$/\1 \2/' > "$TMP/defaults"
[ -s "$TMP/defaults" ] || fail "found no defaults in daemon/config_keys.c"
while read -r key def; do
	grep -qxE "#?$key = $def" "$C" || fail "$C: $key's default is $def in daemon/config_keys.c"
done < "$TMP/defaults"
ok "$(wc -l < "$TMP/defaults") defaults match"

# As installed, overstapd -t refuses it for one reason only: the placeholder
# id, with the file, the line and what to do (issue 15). The directories and
# keys that only exist on a real install give errors without a line.
id_line=$(grep -nxF 'id = 99XX00' "$C" | cut -d: -f1)
[ -n "$id_line" ] || fail "$C: no placeholder line 'id = 99XX00'"
if "$P/sbin/overstapd" -t -c "$C" > /dev/null 2> "$TMP/t0"; then
	fail "overstapd -t accepts the placeholder id 99XX00"
fi
[ "$(grep -E "^$C:[0-9]+:" "$TMP/t0")" = "$C:$id_line: id: 99XX00 is the example's placeholder: set it to your own BRIN code and location number (e.g. 12AB00); overstapd does not start until then" ] ||
	{ cat "$TMP/t0" >&2; fail "overstapd -t: not exactly the placeholder error in the file"; }
ok "installed example: refused for its placeholder id, and for nothing else in the file"
# README.Debian quotes that message, line included
expect_grep "$P/share/doc/overstap/README.Debian" "/etc/overstap/overstapd.conf:$id_line: id: 99XX00 is the example's placeholder"

L=$TMP/local
localize_config "$C" "$L" "$P/bin/overstap"
"$P/sbin/overstapd" -t -c "$L/overstapd.conf" > "$TMP/t1" 2>&1 ||
	{ cat "$TMP/t1" >&2; fail "overstapd -t rejects the example with local paths"; }
expect_line "$TMP/t1" "$L/overstapd.conf: configuration OK (0 peers)"
# The commented [peer] example, all of it switched on, is valid too.
awk '/^#\[peer /{p=1} p && /^#(\[peer |[a-z_]+ = )/{sub(/^#/, "")} {print}' \
	"$L/overstapd.conf" > "$L/with-peer.conf"
[ "$(grep -c '^[a-z_]* = ' "$L/with-peer.conf")" -gt "$(grep -c '^[a-z_]* = ' "$L/overstapd.conf")" ] ||
	fail "could not switch the [peer] example on"
"$P/sbin/overstapd" -t -c "$L/with-peer.conf" > "$TMP/t2" 2>&1 ||
	{ cat "$TMP/t2" >&2; fail "overstapd -t rejects the documented [peer] example"; }
expect_line "$TMP/t2" "$L/with-peer.conf: configuration OK (1 peer)"
# And every commented default, switched on, too.
awk '/^#\[peer /{exit} {print}' "$L/overstapd.conf" | sed -E 's/^#([a-z_]+ = )/\1/' \
	> "$L/all-defaults.conf"
[ "$(grep -c '^[a-z_]* = ' "$L/all-defaults.conf")" -ge 14 ] || fail "could not switch the defaults on"
"$P/sbin/overstapd" -t -c "$L/all-defaults.conf" > "$TMP/t3" 2>&1 ||
	{ cat "$TMP/t3" >&2; fail "overstapd -t rejects the documented defaults"; }
ok "documented defaults accepted"

# ---- 7. DESTDIR with prefix /usr: the layout of the package -----------------------
D=$TMP/destdir
DESTDIR=$D cmake --install "$BUILD" --prefix /usr > "$TMP/install2.log" ||
	{ cat "$TMP/install2.log" >&2; fail "DESTDIR install failed"; }
want=$(package_files)
got=$(cd "$D" && find . -type f | sed 's#^\./##' | sort)
[ "$got" = "$want" ] || fail "DESTDIR file list differs:
$(diff <(echo "$want") <(echo "$got"))"
ok "DESTDIR file list (config in /etc)"
DU=$D/usr/lib/systemd/system/overstapd.service
expect_line "$DU" "ExecStart=/usr/sbin/overstapd -c /etc/overstap/overstapd.conf"
expect_line "$DU" "ConfigurationDirectory=overstap"
expect_line "$DU" "ConfigurationDirectoryMode=0750"
expect_grep "$D/usr/lib/tmpfiles.d/overstap.conf" '^d +/etc/overstap +0750 +root +overstap +-$'
cmp -s "$D/etc/overstap/overstapd.conf" "$SRC/config/overstapd.conf" || fail "installed config differs from config/overstapd.conf"

# An administrator's changed configuration survives a second install.
echo "# changed by the administrator" >> "$D/etc/overstap/overstapd.conf"
cp "$D/etc/overstap/overstapd.conf" "$TMP/changed.conf"
DESTDIR=$D cmake --install "$BUILD" --prefix /usr > "$TMP/install3.log"
cmp -s "$D/etc/overstap/overstapd.conf" "$TMP/changed.conf" || fail "a second install replaced a changed config"
cmp -s "$D/etc/overstap/overstapd.conf.new" "$SRC/config/overstapd.conf" ||
	fail "a second install did not put the example in overstapd.conf.new"
ok "a changed config is kept, the example goes to overstapd.conf.new"

echo "install_tree: $CHECKS checks passed (exposure $score)"
