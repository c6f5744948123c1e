#!/bin/sh
# check-catalog.sh SRC: fails when a message lacks a translation (issue 13).
#   1. every C file that marks a message is listed in po/POTFILES, so that
#      xgettext sees it;
#   2. each po/<lang>.po passes msgfmt --check and has no untranslated or
#      fuzzy message (msgfmt --statistics);
#   3. the template extracted from the sources now has no msgid the catalog
#      lacks (msgcmp): a message added to the code without a translation fails
#      here, not in front of a Dutch user.
set -eu
SRC=$1
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fail() { echo "check-catalog: $*" >&2; exit 1; }
cd "$SRC"

# The calls po/xgettext.sh extracts; a word character before one is another name.
MARK='(^|[^A-Za-z0-9_])(N?C?_|ngettext|i18n_pgettext|ctl_fail|cli_usage_error|csvfile_check_fail|csvfile_check_valid|s_line_fail|s_col_err|s_load_fail)\('
for f in $(grep -lE "$MARK" daemon/*.c client/*.c); do
	grep -qxF "$f" po/POTFILES || fail "$f marks messages but is not in po/POTFILES"
done
for f in $(grep -v '^#' po/POTFILES | grep .); do
	[ -f "$f" ] || fail "po/POTFILES names $f, which does not exist"
done
echo "ok: po/POTFILES lists every file with messages"

po/xgettext.sh "$SRC" "$TMP/overstap.pot" || fail "xgettext failed"
total=$(grep -c '^msgid ' "$TMP/overstap.pot")
for lang in $(grep -v '^#' po/LINGUAS | grep .); do
	po=po/$lang.po
	LC_ALL=C msgfmt --check --statistics -o /dev/null "$po" 2> "$TMP/stats" ||
		{ cat "$TMP/stats" >&2; fail "$po: msgfmt --check failed"; }
	stats=$(cat "$TMP/stats")
	case $stats in
	*untranslated* | *fuzzy*) fail "$po: $stats" ;;
	esac
	LC_ALL=C msgcmp "$po" "$TMP/overstap.pot" 2> "$TMP/cmp" ||
		{ cat "$TMP/cmp" >&2; fail "$po lacks messages the sources have (run make pot, msgmerge)"; }
	echo "ok: $po: ${stats%.}; covers the $((total - 1)) messages of the sources"
done
