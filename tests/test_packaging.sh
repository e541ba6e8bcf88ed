#!/bin/sh
# test_packaging.sh -- checks of packaging/: the systemd units, the sample
# configuration, the man pages, the bash completion and the .deb.
#
# Usage: test_packaging.sh units|config|man|completion|deb
# Environment (set by tests/packaging.cmake): SRC (the source tree), BUILD
# (the build tree), CORRALD, CORRALCTL (the built programs), MANDIR (the
# built man pages, empty without scdoc), CPACK (cpack).
# Exit status: 0 passed, 1 failed, 77 skipped -- always with the reason
# printed. The .deb is installed into the real system (then purged) only as
# root and with CORRAL_TEST_DPKG_INSTALL=1 or CI=true.
set -eu

: "${SRC:?}" "${BUILD:?}" "${CORRALD:?}" "${CORRALCTL:?}"
MANDIR=${MANDIR:-}
TMP=$(mktemp -d /tmp/corral-pkg.XXXXXX)
DAEMON_PID=""
cleanup() {
        if [ -n "$DAEMON_PID" ]; then
                kill "$DAEMON_PID" 2>/dev/null || true
                wait "$DAEMON_PID" 2>/dev/null || true
        fi
        rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

fail() {
        echo "FAIL: $*" >&2
        exit 1
}
skip() {
        echo "SKIP: $*"
        exit 77
}
note() { echo "-- $*"; }
oneline() { printf '%s\n' "$1" | tr '\n' ' '; }

# ---------------------------------------------------------------------------
# systemd-analyze verify of corrald.service and corrald.socket. The copies
# verified run the built corrald (verify checks that ExecStart= exists).
test_units() {
        command -v systemd-analyze >/dev/null 2>&1 ||
                skip "systemd-analyze is not installed (Debian package systemd)"
        mkdir "$TMP/units"
        sed "s|/usr/sbin/corrald|$CORRALD|g" "$SRC/packaging/corrald.service" >"$TMP/units/corrald.service"
        cp "$SRC/packaging/corrald.socket" "$TMP/units/corrald.socket"
        # Documentation= man pages: checked when they were built (MANPATH).
        man_opt=--man=no
        if [ -n "$MANDIR" ] && [ -d "$MANDIR" ] && command -v man >/dev/null 2>&1; then
                man_opt=--man=yes
        fi
        # The tool must work here: a unit with an unknown key must be reported.
        printf '[Service]\nExecStart=/bin/true\nNoSuchKey=1\n' >"$TMP/units/probe.service"
        probe=$(cd "$TMP/units" && timeout 30 systemd-analyze verify --man=no ./probe.service 2>&1) || true
        case $probe in
        *NoSuchKey*) ;;
        *) skip "systemd-analyze verify does not work here: ${probe:-no output for a broken unit}" ;;
        esac
        note "systemd-analyze verify $man_opt corrald.socket corrald.service"
        if ! out=$(cd "$TMP/units" && MANPATH=$MANDIR timeout 60 \
                systemd-analyze verify "$man_opt" ./corrald.socket ./corrald.service 2>&1); then
                fail "systemd-analyze verify: $out"
        fi
        # verify exits 0 on warnings (an unknown key, a bad value): none allowed.
        [ -z "$out" ] || fail "systemd-analyze verify warned: $out"
        # The settings the brief of the units rests on.
        for kv in Type=notify KillMode=mixed NotifyAccess=main Delegate=yes WatchdogSec=30s \
                Restart=on-failure ExecReload=/bin/kill OOMPolicy=continue LimitNOFILE=65536; do
                grep -q "^$kv" "$SRC/packaging/corrald.service" || fail "corrald.service lacks $kv"
        done
        grep -q '^NoNewPrivileges=' "$SRC/packaging/corrald.service" &&
                fail "corrald.service sets NoNewPrivileges= (it would break setuid programs)"
        for kv in ListenStream=/run/corral/corrald.sock SocketMode=0660 SocketGroup=corral \
                Service=corrald.service; do
                grep -q "^$kv" "$SRC/packaging/corrald.socket" || fail "corrald.socket lacks $kv"
        done
        echo "ok: units verified"
}

# ---------------------------------------------------------------------------
# The sample configuration: valid as shipped, valid with every example
# enabled, consistent with corrald.conf(5).
test_config() {
        conf=$SRC/packaging/corrald.conf
        note "corrald --check-config --config packaging/corrald.conf"
        timeout 10 "$CORRALD" --check-config --config "$conf" || fail "the shipped sample is invalid"
        # Every "#key = value" and "#[section]" line enabled.
        mkdir "$TMP/all"
        sed -E 's/^#(\[|[a-z][a-z0-9_.]* = )/\1/' "$conf" >"$TMP/all/corrald.conf"
        if [ "$(id -u)" -ne 0 ]; then
                note "not root: user= and group= left out (they need corrald to run as root)"
                sed -i -E '/^(user|group) = /d' "$TMP/all/corrald.conf"
        fi
        note "corrald --check-config with every example enabled"
        out=$(timeout 10 "$CORRALD" --check-config --config "$TMP/all/corrald.conf" 2>&1) ||
                fail "the sample's examples are invalid: $out"
        echo "$out"
        case $out in
        *"(3 pools, 2 queues)"*) ;;
        *) fail "expected the examples to define 3 pools and 2 queues: $out" ;;
        esac
        # The check is real: a wrong key is refused.
        printf '[pool:x]\nno_such_key = 1\n' >"$TMP/all/bad.conf"
        if timeout 10 "$CORRALD" --check-config --config "$TMP/all/bad.conf" >/dev/null 2>&1; then
                fail "--check-config accepted an unknown key"
        fi
        # Every key of the sample is in corrald.conf(5), and every key there in the sample.
        man5=$SRC/packaging/man/corrald.conf.5.scd
        sample_keys=$(sed -nE 's/^#?([a-z_]+) = .*/\1/p' "$conf" | sort -u)
        # The man page's definitions: "*key* = ...", "*a*, *b* = ...",
        # "*a* = _x_, *b* = _y_", on lines of their own.
        man_keys=$(grep -E '^\*[a-z_]+\*' "$man5" | grep -oE '\*[a-z_]+\*(, \*[a-z_]+\*)* =' |
                tr -d '*,=' | tr ' ' '\n' | grep -E '^[a-z_]+$' | sort -u)
        missing=$(printf '%s\n' "$sample_keys" | grep -vxF "$man_keys" || true)
        [ -z "$missing" ] || fail "keys of the sample missing from corrald.conf(5): $missing"
        missing=$(printf '%s\n' "$man_keys" | grep -vxF "$sample_keys" || true)
        [ -z "$missing" ] || fail "keys of corrald.conf(5) missing from the sample: $missing"
        for s in '\[daemon\]' '\[access\]' '#group\.' '#\[queue:' '#\[pool:'; do
                grep -q "^$s" "$conf" || fail "the sample has no $s example"
        done
        # Every key corrald knows is in the sample (so also in the man page).
        known=$(known_keys) || known=""
        if [ -n "$known" ]; then
                missing=$(printf '%s\n' "$known" | grep -vxF "$sample_keys" || true)
                [ -z "$missing" ] || fail "keys corrald knows missing from the sample: $(oneline "$missing")"
                note "the sample has every key of [daemon], [queue:NAME] and [pool:NAME]"
        fi
        echo "ok: sample configuration valid ($(echo "$sample_keys" | wc -l) keys)"
}

# The keys corrald's configuration accepts, from the sources: [daemon] from
# config.c, [queue:NAME] and [pool:NAME] from the protocol's field tables
# (preprocessed: they are built with macros) plus the file's own pool keys.
# Prints nothing (and says why) when the sources are not laid out as expected.
known_keys() {
        command -v cc >/dev/null 2>&1 || { note "no cc: keys not compared with the sources" >&2; return 1; }
        flags=$(pkg-config --cflags msgpack-c 2>/dev/null || pkg-config --cflags msgpack 2>/dev/null) || flags=""
        # shellcheck disable=SC2086
        cc -E -D_GNU_SOURCE -I"$SRC/proto" $flags "$SRC/proto/spec.c" >"$TMP/spec.i" 2>/dev/null ||
                { note "proto/spec.c does not preprocess: keys not compared" >&2; return 1; }
        fields() { # ARRAY: the names in "static const struct proto_field ARRAY[] = {...};"
                awk -v a="$1" '$0 ~ a "\\[\\] *= *\\{" { on = 1 } on { print } on && /^};/ { exit }' "$TMP/spec.i" |
                        grep -oE '\.name = "[a-z_]+"' | sed -E 's/.*"(.*)"/\1/'
        }
        pool=$(fields pool_create_fields) queue=$(fields queue_create_fields)
        daemon=$(awk '/^config_daemon_key\(/ { on = 1 } on { print } on && /^}/ { exit }' "$SRC/daemon/config.c" |
                grep -oE '(\.name = |strcmp\(key, )"[a-z_]+"' | sed -E 's/.*"(.*)"/\1/')
        if [ -z "$pool" ] || [ -z "$queue" ] || [ -z "$daemon" ]; then
                note "pool_create_fields, queue_create_fields or config_daemon_key not found: keys not compared" >&2
                return 1
        fi
        # name is the section's; consume and replicas are the file's own keys, as are
        # command, env and cwd.
        printf '%s\n' "$daemon" "$queue" "$pool" command env cwd | grep -vx name | sort -u
}

# ---------------------------------------------------------------------------
# The man pages: built by scdoc, rendered by man without warnings, and the
# libcorral(3) example compiles.
test_man() {
        [ -n "$MANDIR" ] || skip "scdoc was not found at configure time: no man pages built"
        for page in man8/corrald.8 man1/corralctl.1 man5/corrald.conf.5 man3/libcorral.3; do
                f=$MANDIR/$page
                [ -s "$f" ] || fail "$page was not built (or is empty)"
                head -c 2000 "$f" | grep -q '^\.TH' || fail "$page is not a troff man page"
                if command -v man >/dev/null 2>&1; then
                        out=$(MANWIDTH=80 LC_ALL=C.UTF-8 timeout 30 man --warnings -l "$f" 2>&1 >"$TMP/page.txt") ||
                                fail "man -l $page: $out"
                        [ -z "$out" ] || fail "man -l $page warned: $out"
                        grep -q NAME "$TMP/page.txt" || fail "man -l $page rendered no NAME section"
                fi
        done
        command -v man >/dev/null 2>&1 || note "man is not installed: pages checked but not rendered"
        if command -v cc >/dev/null 2>&1 &&
                { pkg-config --exists msgpack-c 2>/dev/null || pkg-config --exists msgpack 2>/dev/null; }; then
                # Literal block of the EXAMPLE section, unescaped (\\ -> \).
                awk '/^#include <stdio.h>/ { on = 1 } on && /^```/ { exit } on' \
                        "$SRC/packaging/man/libcorral.3.scd" | sed 's/\\\\/\\/g' >"$TMP/example.c"
                [ -s "$TMP/example.c" ] || fail "no example found in libcorral.3.scd"
                flags=$(pkg-config --cflags msgpack-c 2>/dev/null || pkg-config --cflags msgpack)
                # shellcheck disable=SC2086
                cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I"$SRC/client" $flags "$TMP/example.c" ||
                        fail "the libcorral(3) example does not compile"
                note "the libcorral(3) example compiles"
        fi
        echo "ok: man pages"
}

# ---------------------------------------------------------------------------
# bash completion: loads, completes commands, subcommands and options as
# `corralctl --help` lists them, and names from a running daemon.
test_completion() {
        command -v bash >/dev/null 2>&1 || skip "bash is not installed"
        comp=$SRC/packaging/bash-completion/corralctl
        ctldir=$(dirname "$CORRALCTL")
        # COMP_WORDS split as bash does at blanks, ':' and '='.
        cat >"$TMP/complete.bash" <<'EOF'
source "$1" || exit 1
shift
complete -p corralctl >/dev/null || { echo "no completion registered" >&2; exit 1; }
for line in "$@"; do
        COMP_LINE=$line
        COMP_POINT=${#line}
        l=${line//=/ = }
        l=${l//:/ : }
        read -ra COMP_WORDS <<<"$l"
        [[ $line == *[[:space:]] ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _corralctl corralctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        printf '%s\n' "${COMPREPLY[*]}"
done
EOF
        compl() { # LINE -> the offers, space separated
                PATH=$ctldir:$PATH timeout 20 bash "$TMP/complete.bash" "$comp" "$1"
        }
        expect() { # LINE EXPECTED
                got=$(compl "$1")
                [ "$got" = "$2" ] || fail "completing '$1': expected '$2', got '$got'"
                note "'$1' -> '$got'"
        }
        expect "corralctl po" "pool"
        expect "corralctl pool sc" "scale"
        expect "corralctl queue pu" "purge put"
        expect "corralctl --json sh" "shutdown"
        expect "corralctl spawn --restart on" "on-failure"
        expect "corralctl queue create q --fsync a" "always"
        expect "corralctl terminate x --signal KI" "KILL"

        # Commands and options against the help of the built corralctl.
        help_cmds=$("$CORRALCTL" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }' | sort)
        [ -n "$help_cmds" ] || fail "no commands found in corralctl --help"
        comp_cmds=$(compl "corralctl " | tr ' ' '\n' | sort)
        [ "$help_cmds" = "$comp_cmds" ] ||
                fail "commands: corralctl --help lists [$(oneline "$help_cmds")], the completion [$(oneline "$comp_cmds")]"
        for group in pool queue; do
                help_subs=$("$CORRALCTL" $group --help | awk -v g="$group" '/^  [a-z]/ && $1 == g && NF > 2 { print $2 }' | sort)
                comp_subs=$(compl "corralctl $group " | tr ' ' '\n' | sort)
                [ "$help_subs" = "$comp_subs" ] ||
                        fail "$group subcommands: help [$(oneline "$help_subs")], completion [$(oneline "$comp_subs")]"
        done
        checked=0
        for cmd in $help_cmds "pool create" "pool info" "pool list" "pool scale" "pool restart" \
                "pool close" "pool join" "pool terminate" "pool delete" "queue create" "queue info" \
                "queue list" "queue purge" "queue delete" "queue put" "queue get" "queue ack" \
                "queue nack" "queue touch" "queue peek"; do
                case $cmd in pool | queue) continue ;; esac
                # shellcheck disable=SC2086
                help_opts=$("$CORRALCTL" $cmd --help 2>&1 |
                        grep -oE '^ {2,6}(-[a-zA-Z], )?--[a-z-]+' | grep -oE -- '-[a-zA-Z]\b|--[a-z-]+' | sort -u)
                comp_opts=$(compl "corralctl $cmd -" | tr ' ' '\n' | sort -u)
                [ "$help_opts" = "$comp_opts" ] ||
                        fail "options of '$cmd': help [$(oneline "$help_opts")], completion [$(oneline "$comp_opts")]"
                checked=$((checked + 1))
        done
        note "options of $checked commands match their --help"

        # Names, from a private daemon.
        mkdir "$TMP/d"
        : >"$TMP/d/empty.conf"
        sock=$TMP/d/s.sock
        "$CORRALD" --config "$TMP/d/empty.conf" --socket "$sock" --state-dir "$TMP/d/state" \
                >"$TMP/d/log" 2>&1 &
        DAEMON_PID=$!
        i=0
        until "$CORRALCTL" --socket "$sock" --timeout 1 ping >/dev/null 2>&1; do
                i=$((i + 1))
                [ $i -lt 100 ] || fail "corrald did not start: $(cat "$TMP/d/log")"
                sleep 0.05
        done
        ctl() { "$CORRALCTL" --socket "$sock" --timeout 5 "$@" >/dev/null; }
        ctl spawn --name web -- sleep 60
        ctl spawn --name app:1 -- sleep 60
        ctl pool create workers --size 2
        ctl queue create jobs
        expect "corralctl --socket $sock info w" "web"
        expect "corralctl --socket=$sock terminate " "app:1 web"
        expect "corralctl --socket $sock info app:" "1"
        expect "corralctl --socket $sock pool info wo" "workers"
        expect "corralctl --socket $sock spawn --pool=w" "workers"
        expect "corralctl --socket $sock get j" "jobs"
        expect "corralctl --socket $sock queue purge " "jobs"
        expect "corralctl --socket $sock spawn --stdout queue:j" "jobs"
        expect "corralctl --socket $sock call pool.sc" "pool.scale"
        # The default socket comes from $CORRAL_SOCKET, as for corralctl.
        got=$(CORRAL_SOCKET=$sock compl "corralctl pool info w")
        [ "$got" = workers ] || fail "with CORRAL_SOCKET: expected 'workers', got '$got'"
        # No daemon: nothing offered, quickly, and no error printed.
        expect "corralctl --socket $TMP/none.sock info " ""
        ctl shutdown
        wait "$DAEMON_PID" 2>/dev/null || true
        DAEMON_PID=""
        echo "ok: bash completion"
}

# ---------------------------------------------------------------------------
# The .deb: built by cpack into a scratch directory (the build tree is left
# alone), its contents and control files checked; installed and purged only
# when allowed (see the top).
test_deb() {
        command -v dpkg-deb >/dev/null 2>&1 || skip "dpkg-deb is not installed"
        command -v dpkg-shlibdeps >/dev/null 2>&1 ||
                skip "dpkg-shlibdeps is not installed (Debian package dpkg-dev), needed for Depends"
        : "${CPACK:?}"
        note "cpack -G DEB into a scratch directory"
        if ! timeout 240 "$CPACK" -G DEB --config "$BUILD/CPackConfig.cmake" -B "$TMP/cpack" \
                >"$TMP/cpack.log" 2>&1; then
                cat "$TMP/cpack.log" >&2
                fail "cpack failed"
        fi
        version=$(sed -nE 's/^project\(corral VERSION ([0-9.]+).*/\1/p' "$SRC/CMakeLists.txt")
        arch=$(dpkg --print-architecture)
        deb=$TMP/cpack/corral_${version}_${arch}.deb
        [ -f "$deb" ] || fail "no $deb: $(ls "$TMP/cpack")"
        dpkg-deb --contents "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$TMP/contents"
        for f in /usr/sbin/corrald /usr/bin/corralctl /usr/lib/systemd/system/corrald.service \
                /usr/lib/systemd/system/corrald.socket /usr/lib/sysusers.d/corral.conf \
                /usr/lib/tmpfiles.d/corral.conf /etc/corral/corrald.conf \
                /usr/share/doc/corral/examples/corrald.conf \
                /usr/share/bash-completion/completions/corralctl /usr/include/corral.h; do
                grep -qxF "$f" "$TMP/contents" || fail "$f is not in the package"
        done
        grep -qE '/lib/(.*/)?libcorral\.so\.1$' "$TMP/contents" || fail "libcorral.so.1 is not in the package"
        grep -qE '/lib/(.*/)?pkgconfig/libcorral\.pc$' "$TMP/contents" || fail "libcorral.pc is not in the package"
        if [ -n "$MANDIR" ]; then
                for f in man1/corralctl.1 man3/libcorral.3 man5/corrald.conf.5 man8/corrald.8; do
                        grep -qxF "/usr/share/man/$f" "$TMP/contents" || fail "$f is not in the package"
                done
        fi
        mkdir "$TMP/ctl"
        dpkg-deb --control "$deb" "$TMP/ctl"
        grep -qx 'Package: corral' "$TMP/ctl/control" || fail "the package is not named corral"
        grep -qx "Version: $version" "$TMP/ctl/control" || fail "the version is not $version"
        grep -q '^Maintainer: .*<.*@.*>' "$TMP/ctl/control" || fail "no Maintainer"
        grep -q '^Depends: .*libc6.*libevent' "$TMP/ctl/control" ||
                fail "Depends was not computed: $(grep '^Depends' "$TMP/ctl/control" || echo none)"
        grep -qx '/etc/corral/corrald.conf' "$TMP/ctl/conffiles" || fail "corrald.conf is not a conffile"
        grep -qx 'activate-noawait ldconfig' "$TMP/ctl/triggers" || fail "no ldconfig trigger"
        for s in postinst prerm postrm; do
                [ -x "$TMP/ctl/$s" ] || fail "$s is missing or not executable"
                sh -n "$TMP/ctl/$s" || fail "$s is not valid sh"
        done
        mkdir "$TMP/x"
        dpkg-deb -x "$deb" "$TMP/x"
        pc=$(find "$TMP/x" -name libcorral.pc)
        grep -qx 'prefix=/usr' "$pc" || fail "libcorral.pc does not say prefix=/usr: $(head -1 "$pc")"
        cmp -s "$TMP/x/etc/corral/corrald.conf" "$SRC/packaging/corrald.conf" ||
                fail "/etc/corral/corrald.conf is not the sample"
        note "$(basename "$deb"): contents, control, conffiles, scripts ok"

        if [ "${CORRAL_TEST_DPKG_INSTALL:-}" != 1 ] && [ "${CI:-}" != true ]; then
                echo "ok: .deb built and checked (not installed: set CORRAL_TEST_DPKG_INSTALL=1, as root)"
                return 0
        fi
        [ "$(id -u)" -eq 0 ] || skip ".deb built and checked; installing it needs root"
        if dpkg-query -W -f='${Status}' corral 2>/dev/null | grep -q 'installed'; then
                skip ".deb built and checked; a corral package is already installed: not touching it"
        fi
        for f in /usr/sbin/corrald /usr/bin/corralctl; do
                [ ! -e "$f" ] || skip ".deb built and checked; $f exists already: not touching it"
        done
        deb_install "$deb" "$version"
        echo "ok: .deb built, checked, installed and purged"
}

# Install the package into the real system, check it, purge it, and leave the
# machine as it was (the group and directories its scripts made included).
deb_install() {
        deb=$1 version=$2
        had_group=no had_etc=no had_run=no had_lib=no
        getent group corral >/dev/null 2>&1 && had_group=yes
        [ -e /etc/corral ] && had_etc=yes
        [ -e /run/corral ] && had_run=yes
        [ -e /var/lib/corral ] && had_lib=yes
        restore() {
                if dpkg-query -W corral >/dev/null 2>&1; then
                        DEBIAN_FRONTEND=noninteractive timeout 120 dpkg --purge corral >/dev/null 2>&1 || true
                fi
                [ "$had_group" = yes ] || ! getent group corral >/dev/null 2>&1 ||
                        groupdel corral 2>/dev/null || true
                [ "$had_run" = yes ] || rmdir /run/corral 2>/dev/null || true
                [ "$had_lib" = yes ] || rmdir /var/lib/corral 2>/dev/null || true
                [ "$had_etc" = yes ] || rmdir /etc/corral 2>/dev/null || true
                cleanup
        }
        trap restore EXIT INT TERM
        note "dpkg -i $(basename "$deb")"
        DEBIAN_FRONTEND=noninteractive timeout 180 dpkg -i "$deb" ||
                fail "dpkg -i failed (missing dependencies?)"
        out=$(timeout 10 /usr/sbin/corrald --version) || fail "/usr/sbin/corrald --version failed"
        case $out in *"$version"*) ;; *) fail "corrald --version says '$out', not $version" ;; esac
        timeout 10 /usr/bin/corralctl --help >/dev/null || fail "/usr/bin/corralctl --help failed"
        # corralctl is linked statically (CORRAL_CTL_STATIC); programs find libcorral.so.1
        # through the ldconfig trigger.
        ldconfig -p | grep -qE 'libcorral\.so\.1 .*=> /(usr/)?lib/' ||
                fail "the dynamic linker does not know libcorral.so.1: $(ldconfig -p | grep corral)"
        # The installed conffile, at corrald's default path for root.
        timeout 10 env -u CORRAL_CONFIG /usr/sbin/corrald --check-config ||
                fail "the installed configuration is invalid"
        if command -v systemd-sysusers >/dev/null 2>&1; then
                getent group corral >/dev/null || fail "postinst did not create group corral"
        fi
        if command -v systemd-tmpfiles >/dev/null 2>&1; then
                [ "$(stat -c '%a %U %G' /run/corral)" = "750 root corral" ] ||
                        fail "/run/corral is $(stat -c '%a %U %G' /run/corral), not 750 root corral"
        fi
        if command -v systemd-analyze >/dev/null 2>&1; then
                man_opt=--man=no
                command -v man >/dev/null 2>&1 && [ -n "$MANDIR" ] && man_opt=--man=yes
                out=$(timeout 60 systemd-analyze verify "$man_opt" corrald.socket corrald.service 2>&1) ||
                        fail "systemd-analyze verify of the installed units: $out"
                [ -z "$out" ] || fail "systemd-analyze verify of the installed units warned: $out"
        fi
        note "installed: corrald --version, corralctl --help, --check-config, units ok"
        DEBIAN_FRONTEND=noninteractive timeout 120 dpkg --purge corral >/dev/null || fail "dpkg --purge failed"
        [ ! -e /usr/sbin/corrald ] || fail "/usr/sbin/corrald is still there after the purge"
        [ "$had_etc" = yes ] || [ ! -e /etc/corral/corrald.conf ] || fail "/etc/corral/corrald.conf left after the purge"
        note "purged"
}

case ${1:-} in
units) test_units ;;
config) test_config ;;
man) test_man ;;
completion) test_completion ;;
deb) test_deb ;;
*)
        echo "usage: test_packaging.sh units|config|man|completion|deb" >&2
        exit 2
        ;;
esac
