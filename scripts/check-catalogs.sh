#!/usr/bin/env bash
# Check every shipped catalog with GNU gettext (the reference every PO tool follows):
# msgfmt -c --check-format on each .po (syntax, header, format strings), and on each .pot
# syntax and format strings (a template's header keeps gettext's blanks by design).
# Catalogs: the sample (locales/), the starter project and policygen's notice texts.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v msgfmt >/dev/null || { echo "check-catalogs: msgfmt not found; run scripts/setup.sh as root (Debian package gettext)" >&2; exit 1; }
status=0
count=0
while IFS= read -r -d '' file; do
  count=$((count + 1))
  case "$file" in
    *.pot) msgfmt --check-format --check-domain -o /dev/null "$file" || status=1 ;;
    *) out=$(msgfmt -c --check-format -o /dev/null "$file" 2>&1) || status=1
       if [ -n "$out" ]; then echo "$out" >&2; status=1; fi ;;
  esac
done < <(find locales policygen/data/starter/locales policygen/data/notices tests/fixtures/projects/*/locales \( -name '*.po' -o -name '*.pot' \) -print0 | sort -z)
if [ "$status" = 0 ]; then echo "check-catalogs: $count catalogs pass msgfmt -c"; fi
exit $status
