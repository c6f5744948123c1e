#!/usr/bin/env bash
# install_dpkg: installs the .deb on this machine with dpkg and checks the
# result: the overstap user, directories and modes, generated keys that a
# reinstall keeps, nothing enabled or started on the placeholder id and
# `overstapd -t` saying why, then (id set) `overstapd -t` and the daemon
# itself running as overstap, the CLI as a member of group overstap; then
# dpkg -r keeps the state, a non-interactive dpkg --purge keeps the keys and
# the store (debconf's default, no), a reinstall takes them up again, and a
# purge preseeded "yes" removes them.
# It changes the system, so it runs only as root with OVERSTAP_TEST_DPKG=1,
# and only when overstap is not installed already; otherwise it is skipped
# (exit 77). It leaves the machine as it found it.
# Usage: test_dpkg.sh BUILD_DIR SOURCE_DIR
. "$(dirname "$0")/lib.sh"

skip() { echo "install_dpkg: skipped: $*"; exit 77; }
[ "${OVERSTAP_TEST_DPKG:-}" = 1 ] || skip "set OVERSTAP_TEST_DPKG=1 (as root) to install the package here"
[ "$(id -u)" = 0 ] || skip "needs root"
pkg_state=$(dpkg-query -W -f='${db:Status-Status}' overstap 2>/dev/null || true)
if [ -n "$pkg_state" ] && [ "$pkg_state" != not-installed ]; then
	skip "a package overstap is already on this machine; not touching it"
fi
for d in /var/lib/overstap /etc/overstap /run/overstap; do
	[ ! -e "$d" ] || skip "$d exists already; not touching it"
done
# Unattended, as CI: debconf takes its defaults.
export DEBIAN_FRONTEND=noninteractive
USER_EXISTED=no
if getent passwd overstap > /dev/null; then USER_EXISTED=yes; fi

VERSION=$(project_version)
cpack --config "$BUILD/CPackConfig.cmake" -G DEB -B "$TMP/out" > "$TMP/cpack.log" 2>&1 ||
	{ cat "$TMP/cpack.log" >&2; fail "cpack -G DEB failed"; }
debs=("$TMP/out/overstap_${VERSION}_"*.deb)
DEB=${debs[0]}
[ -f "$DEB" ] || fail "cpack made no overstap_${VERSION}_*.deb"

DAEMON_PID=
uninstall() {
	[ -z "$DAEMON_PID" ] || kill -KILL "$DAEMON_PID" 2>/dev/null || true
	pkg_state=$(dpkg-query -W -f='${db:Status-Status}' overstap 2>/dev/null || true)
	if [ -n "$pkg_state" ] && [ "$pkg_state" != not-installed ]; then
		echo "overstap overstap/purge_data boolean true" | debconf-set-selections || true
		dpkg --purge overstap > /dev/null 2>&1 || true
	fi
	# none of them existed before the test (or it was skipped)
	rm -rf /var/lib/overstap /etc/overstap /run/overstap
	if [ "$USER_EXISTED" = no ] && getent passwd overstap > /dev/null; then
		userdel overstap || true
	fi
	if [ "$USER_EXISTED" = no ] && getent group overstap > /dev/null; then
		groupdel overstap || true
	fi
}
CLEANUP_HOOKS+=(uninstall)

# ---- 1. install ------------------------------------------------------------------
dpkg -i "$DEB" > "$TMP/dpkg-i.log" 2>&1 || { cat "$TMP/dpkg-i.log" >&2; fail "dpkg -i failed"; }
[ "$(dpkg-query -W -f='${Status} ${Version}' overstap)" = "install ok installed $VERSION" ] ||
	fail "dpkg-query: $(dpkg-query -W -f='${Status} ${Version}' overstap)"
conffiles=$(dpkg-query -W -f='${Conffiles}\n' overstap)
case $conffiles in *" /etc/overstap/overstapd.conf "*) ;;
*) fail "dpkg does not list /etc/overstap/overstapd.conf as a conffile: $conffiles" ;; esac
ok "installed"
# Not enabled, not started: the example's id is the placeholder. The
# postinst says why (overstapd -t's words) and what to do next.
CONF=/etc/overstap/overstapd.conf
ID_LINE=$(grep -nxF 'id = 99XX00' "$CONF" | cut -d: -f1)
[ -n "$ID_LINE" ] || fail "$CONF has no placeholder id"
PLACEHOLDER_ERR="$CONF:$ID_LINE: id: 99XX00 is the example's placeholder"
for want in "overstapd is not started" "$PLACEHOLDER_ERR" "systemctl enable --now overstapd.service" \
	    /usr/share/doc/overstap/README.Debian; do
	grep -qF -- "$want" "$TMP/dpkg-i.log" || { cat "$TMP/dpkg-i.log" >&2; fail "dpkg -i did not say '$want'"; }
done
[ ! -e /etc/systemd/system/multi-user.target.wants/overstapd.service ] ||
	fail "the postinst enabled overstapd with the placeholder id"
ok "placeholder id: not enabled, and the postinst says what to do"

pw=$(getent passwd overstap) || fail "no user overstap"
getent group overstap > /dev/null || fail "no group overstap"
[ "$(echo "$pw" | cut -d: -f6)" = /var/lib/overstap ] || fail "home: $pw"
[ "$(id -gn overstap)" = overstap ] || fail "primary group of overstap: $(id -gn overstap)"
ok "user and group overstap"

check_path() {	# PATH MODE OWNER:GROUP
	[ -e "$1" ] || fail "$1 missing"
	[ "$(stat -c '%a %U:%G' "$1")" = "$2 $3" ] || fail "$1: $(stat -c '%a %U:%G' "$1"), expected $2 $3"
	ok "$1 $2 $3"
}
check_path /etc/overstap 750 root:overstap
check_path /etc/overstap/overstapd.conf 644 root:root
check_path /var/lib/overstap 700 overstap:overstap
check_path /var/lib/overstap/keys 700 overstap:overstap
check_path /run/overstap 750 overstap:overstap
for k in curve.key sign.key master.key; do check_path /var/lib/overstap/keys/$k 600 overstap:overstap; done
for k in curve.pub sign.pub; do check_path /var/lib/overstap/keys/$k 644 overstap:overstap; done
sha256sum /var/lib/overstap/keys/* > "$TMP/keys.sum"

# ---- 2. reinstall (configure with the old version) keeps the keys ---------------------
dpkg -i "$DEB" > "$TMP/dpkg-i2.log" 2>&1 || { cat "$TMP/dpkg-i2.log" >&2; fail "second dpkg -i failed"; }
sha256sum -c --quiet "$TMP/keys.sum" || fail "reinstalling replaced the keys"
ok "reinstall keeps the keys"

# ---- 3. the configuration, as the service user -------------------------------------
# As installed: refused for the placeholder, with the file and line
if runuser -u overstap -- /usr/sbin/overstapd -t > "$TMP/t" 2>&1; then
	fail "overstapd -t accepts the placeholder id"
fi
[ "$(cat "$TMP/t")" = "$PLACEHOLDER_ERR: set it to your own BRIN code and location number (e.g. 12AB00); overstapd does not start until then" ] ||
	{ cat "$TMP/t" >&2; fail "overstapd -t: not the placeholder error alone"; }
ok "overstapd -t refuses the placeholder, naming file and line"
# The administrator names the institution: then it passes
sed -i 's/^id = 99XX00$/id = 12AB00/' "$CONF"
runuser -u overstap -- /usr/sbin/overstapd -t > "$TMP/t" 2>&1 ||
	{ cat "$TMP/t" >&2; fail "overstapd -t as overstap rejects the packaged configuration with an id"; }
expect_line "$TMP/t" "/etc/overstap/overstapd.conf: configuration OK (0 peers)"

# ---- 4. the daemon, as the service user, for a few seconds ---------------------------
# setpriv execs the daemon (runuser would stay in between and take the signal)
setpriv --reuid=overstap --regid=overstap --init-groups -- /usr/sbin/overstapd \
	> "$TMP/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do
	grep -q 'running' "$TMP/daemon.log" && [ -S /run/overstap/control.sock ] && break
	kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$TMP/daemon.log" >&2; fail "overstapd exited at start"; }
	sleep 0.1
done
grep -q 'running' "$TMP/daemon.log" || { cat "$TMP/daemon.log" >&2; fail "overstapd did not reach 'running'"; }
check_path /run/overstap/control.sock 660 overstap:overstap
sleep 2
kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$TMP/daemon.log" >&2; fail "overstapd died after start"; }
# The CLI as a member of group overstap: it reads the config for the socket.
runuser -u overstap -- /usr/bin/overstap status > "$TMP/status" 2>&1 ||
	{ cat "$TMP/status" "$TMP/daemon.log" >&2; fail "overstap status as overstap failed"; }
ok "overstap status"
kill -TERM "$DAEMON_PID"
rc=0; wait "$DAEMON_PID" || rc=$?
DAEMON_PID=
[ "$rc" = 0 ] || { cat "$TMP/daemon.log" >&2; fail "overstapd exited $rc on SIGTERM"; }
[ ! -e /run/overstap/control.sock ] || fail "the control socket outlived the daemon"
if grep -E '^<[0-3]>' "$TMP/daemon.log" >&2; then fail "overstapd logged errors"; fi
ok "daemon ran as overstap and stopped cleanly"

# ---- 5. remove keeps state and configuration -----------------------------------------
[ -s /var/lib/overstap/store.db ] || fail "the daemon left no store"
sha256sum /var/lib/overstap/keys/* /var/lib/overstap/store.db > "$TMP/state.sum"
dpkg -r overstap > "$TMP/dpkg-r.log" 2>&1 || { cat "$TMP/dpkg-r.log" >&2; fail "dpkg -r failed"; }
[ ! -e /usr/sbin/overstapd ] || fail "dpkg -r left /usr/sbin/overstapd"
[ -f /etc/overstap/overstapd.conf ] || fail "dpkg -r removed the configuration"
sha256sum -c --quiet "$TMP/state.sum" || fail "dpkg -r touched the keys or the store"
ok "remove keeps keys, store and configuration"

# ---- 6. purge, unattended: debconf's default (no) keeps the keys and the store ---------
dpkg --purge overstap > "$TMP/dpkg-p.log" 2>&1 || { cat "$TMP/dpkg-p.log" >&2; fail "dpkg --purge failed"; }
sha256sum -c --quiet "$TMP/state.sum" || fail "an unattended purge deleted or changed the keys or the store"
grep -qF "kept the keys and the store in /var/lib/overstap" "$TMP/dpkg-p.log" ||
	{ cat "$TMP/dpkg-p.log" >&2; fail "the purge did not say it kept /var/lib/overstap"; }
for d in /etc/overstap /run/overstap /usr/lib/systemd/system/overstapd.service; do
	[ ! -e "$d" ] || fail "dpkg --purge left $d"
done
pkg_state=$(dpkg-query -W -f='${db:Status-Status}' overstap 2>/dev/null || true)
if [ -n "$pkg_state" ] && [ "$pkg_state" != not-installed ]; then fail "dpkg still knows overstap after purge"; fi
if debconf-show overstap 2>/dev/null | grep -q purge_data; then fail "the purge left its debconf question"; fi
ok "unattended purge keeps /var/lib/overstap, removes the rest"

# ---- 7. a new installation takes the kept keys and store up again ----------------------
dpkg -i "$DEB" > "$TMP/dpkg-i3.log" 2>&1 || { cat "$TMP/dpkg-i3.log" >&2; fail "dpkg -i after purge failed"; }
sha256sum -c --quiet "$TMP/state.sum" || fail "reinstalling replaced the kept keys or store"
if grep -q "generated this institution's keys" "$TMP/dpkg-i3.log"; then fail "reinstalling generated keys"; fi
ok "reinstall after a purge keeps the kept state"

# ---- 8. purge, told yes beforehand: the keys and the store go -------------------------------
echo "overstap overstap/purge_data boolean true" | debconf-set-selections
dpkg --purge overstap > "$TMP/dpkg-p2.log" 2>&1 || { cat "$TMP/dpkg-p2.log" >&2; fail "dpkg --purge (yes) failed"; }
for d in /var/lib/overstap /etc/overstap /run/overstap /usr/lib/systemd/system/overstapd.service; do
	[ ! -e "$d" ] || fail "dpkg --purge, preseeded yes, left $d"
done
pkg_state=$(dpkg-query -W -f='${db:Status-Status}' overstap 2>/dev/null || true)
if [ -n "$pkg_state" ] && [ "$pkg_state" != not-installed ]; then fail "dpkg still knows overstap after purge"; fi
getent passwd overstap > /dev/null || fail "purge removed the user overstap (Debian keeps system users)"
ok "purge, preseeded yes, removes the state, keeps the user"

echo "install_dpkg: $CHECKS checks passed"
