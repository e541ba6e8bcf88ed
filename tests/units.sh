#!/bin/sh
# units.sh PACKAGING_DIR CORRALD -- systemd-analyze verify of corrald's unit
# files. The units name /usr/sbin/corrald, which is not installed here: a
# copy of them names the built corrald instead. Exits 77 (skipped) with the
# reason when there is nothing to check or nothing to check it with.
set -eu

pkg=$1
corrald=$2

if [ ! -f "$pkg/corrald.service" ]; then
	echo "SKIP: $pkg/corrald.service does not exist"
	exit 77
fi
analyze=$(command -v systemd-analyze || true)
if [ -z "$analyze" ]; then
	echo "SKIP: systemd-analyze is not installed"
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
units=
for f in "$pkg"/corrald.service "$pkg"/corrald.socket; do
	[ -f "$f" ] || continue
	sed "s#/usr/sbin/corrald#$corrald#g" "$f" >"$tmp/$(basename "$f")"
	units="$units $tmp/$(basename "$f")"
done

# Warnings count as failures: systemd-analyze prints them on stderr.
out=$("$analyze" verify --man=no $units 2>&1) && rc=0 || rc=$?
if [ -n "$out" ]; then
	printf '%s\n' "$out"
fi
if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
	echo "FAIL: systemd-analyze verify$units"
	exit 1
fi

# The service's Type=notify, socket and reload must fit what corrald does.
svc="$tmp/corrald.service"
grep -q '^Type=notify' "$svc" || { echo "FAIL: corrald.service is not Type=notify"; exit 1; }
if grep -q '^ExecReload=' "$svc"; then
	grep '^ExecReload=' "$svc" | grep -q -e 'HUP' -e 'reload' ||
		{ echo "FAIL: ExecReload= neither sends SIGHUP nor calls reload"; exit 1; }
fi
echo "PASS systemd.units_verify"
