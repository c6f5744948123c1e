#!/bin/sh
# xgettext.sh SRC OUT: the message template of SRC's sources listed in
# SRC/po/POTFILES, written to OUT. The one place that names the keywords, so
# that `make pot` and po/check-catalog.sh extract the same messages.
#   _, N_, NC_:1c,2   daemon/i18n.h (NC_ with a context)
#   ngettext:1,2      counts ("1 leaver", "2 leavers")
#   ctl_fail:3        the daemon's replies: ctl_fail translates its format
#   cli_usage_error:2 the CLI's usage errors: it translates its format
#   csvfile_check_fail:3 (csvfile_check.c), s_line_fail:3 (csvfile.c), s_col_err:3 (leavers.c)
#                     the CSV checks: csvfile translates the format
#   csvfile_check_valid:6   its "what" phrase, translated in csvfile_check.c
#   s_load_fail:2     csvdialect.c's --map file errors
#   s_key_fail:3      keys.c's reasons (overstap keys prints them)
#   s_error:3, s_why:3  config.c's errors in a configuration that does not load
#   s_grant_err:2     consent.c's reasons a consent cannot be recorded
set -eu
SRC=$1
OUT=$2
cd "$SRC"
grep -v '^#' po/POTFILES | grep . | xgettext --from-code=UTF-8 --language=C \
	--keyword=_ --keyword=N_ --keyword=NC_:1c,2 --keyword=i18n_pgettext:1c,2 --keyword=ngettext:1,2 \
	--keyword=ctl_fail:3 --keyword=cli_usage_error:2 \
	--keyword=csvfile_check_fail:3 --keyword=s_line_fail:3 --keyword=s_col_err:3 \
	--keyword=csvfile_check_valid:6 --keyword=s_load_fail:2 --keyword=s_key_fail:3 \
	--keyword=s_error:3 --keyword=s_why:3 --keyword=s_grant_err:2 \
	--flag=ctl_fail:3:c-format --flag=cli_usage_error:2:c-format \
	--flag=csvfile_check_fail:3:c-format --flag=s_line_fail:3:c-format \
	--flag=s_col_err:3:c-format --flag=s_load_fail:2:c-format --flag=s_key_fail:3:c-format \
	--flag=s_error:3:c-format --flag=s_why:3:c-format --flag=s_grant_err:2:c-format \
	--add-comments=TRANSLATORS: --sort-by-file \
	--package-name=overstap --msgid-bugs-address=overstap@lists.example.nl \
	--files-from=- -o "$OUT"
