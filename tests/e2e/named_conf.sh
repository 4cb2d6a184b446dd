# Sourced by run.sh (phases 6 and 10d) and ansible.sh: the configuration of a lab named.
#
# named_conf DIR LISTEN ZONES: writes DIR/named.conf for an authoritative-only named whose pid,
# lock and session files are in DIR/work and which logs (queries too) to DIR/work/named.log;
# LISTEN is its listen-on statements, ZONES its zone statements.
named_conf() {
  local dir=$1 listen=$2 zones=$3
  cat >"$dir/named.conf" <<EOF
options {
    directory "$dir/work";
    pid-file "$dir/work/named.pid";
    lock-file "$dir/work/named.lock";   # not /run/named/named.lock: several labs may run
    session-keyfile "$dir/work/session.key";
    $listen
    listen-on-v6 { none; };
    recursion no;
    allow-query { any; };
    dnssec-validation no;
    notify no;
};
controls { };
logging { channel f { file "$dir/work/named.log"; severity info; print-time yes; };
          category default { f; }; category queries { f; }; };
$zones
EOF
}
