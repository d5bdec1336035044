#!/usr/bin/env bash
# test_deploy.sh - the files in deploy/ pass their own validators:
# systemd-analyze (units, and their security exposure), promtool (alert
# rules, their unit tests, the Prometheus config), amtool (Alertmanager
# config), YAML parsing plus structural checks of the compose file and the
# Kubernetes manifests, yamllint, and librdkafka accepting the example
# kafka.* properties (the binaries start with them).
#
# A missing validator is a failure naming the Debian package to install
# (systemd, prometheus, prometheus-alertmanager, python3-yaml, yamllint).
#
#   BUILD_DIR=build-ops bash tests/integration/test_deploy.sh
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$TP_ROOT"

W=$(tp_workdir)
D=$TP_ROOT/deploy

have() { # have CMD PACKAGE: assert the validator is installed
	if command -v "$1" >/dev/null 2>&1; then
		tp_assert_eq yes yes "validator $1 is installed"
		return 0
	fi
	tp_assert_eq yes no "validator $1 is installed (apt-get install $2)"
	return 1
}
check() { # check WHAT CMD...: assert that CMD succeeds, show its output if not
	if "${@:2}" >"$W/check.log" 2>&1; then
		tp_assert_eq 0 0 "$1"
	else
		local rc=$?
		cat "$W/check.log" >&2
		tp_assert_eq 0 "$rc" "$1"
	fi
}

# ---- systemd units -------------------------------------------------------------
if have systemd-analyze systemd; then
	for unit in "$D"/systemd/*.service; do
		name=$(basename "$unit")
		bin=$(sed -n 's|^ExecStart=/usr/bin/\([^ ]*\).*|\1|p' "$unit")
		# verify checks that ExecStart exists: point it at the build.
		if [[ -x "$TTHC_BIN/$bin" ]]; then
			sed "s|/usr/bin/$bin|$TTHC_BIN/$bin|" "$unit" >"$W/$name"
		else
			tp_log "$bin is not built: verifying $name with ExecStart=/bin/true"
			sed "s|/usr/bin/$bin|/bin/true|" "$unit" >"$W/$name"
		fi
		check "systemd-analyze verify $name" systemd-analyze verify "$W/$name"
		out=$(grep -E '^(Unknown|Invalid|.*ignoring)' "$W/check.log" || true)
		tp_assert_eq "" "$out" "$name has no unknown or ignored settings"
		exposure=$(systemd-analyze security --offline=yes "$W/$name" 2>/dev/null |
			sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		tp_assert_eq yes "$(awk -v e="${exposure:-99}" 'BEGIN { print (e <= 2.0) ? "yes" : "no" }')" \
			"$name exposure level ${exposure:-?} <= 2.0 (systemd-analyze security)"
		for key in DynamicUser=yes ProtectSystem=strict ProtectHome=yes NoNewPrivileges=yes \
			PrivateTmp=yes Restart=on-failure 'EnvironmentFile=-/etc/tthc-pulse/%N.env' \
			'LoadCredential=pg:' 'ExecStart=/usr/bin/[a-z-]* --config'; do
			tp_assert_eq yes "$(grep -q "^$key" "$unit" && echo yes || echo no)" "$name sets $key"
		done
	done
fi

# ---- Prometheus and Alertmanager -----------------------------------------------
if have promtool prometheus; then
	check "promtool check rules tthc-pulse-rules.yaml" \
		promtool check rules "$D/prometheus/tthc-pulse-rules.yaml"
	check "promtool test rules (unit tests of the alert rules)" \
		bash -c "cd '$D/prometheus' && promtool test rules tthc-pulse-rules.test.yaml"
	check "promtool check config prometheus.yml" \
		promtool check config "$D/prometheus/prometheus.yml"
	for a in TthcConsumerLagGrowing TthcDeadLetterRate TthcWatermarkStalled TthcPostgresUnreachable; do
		tp_assert_eq yes "$(grep -q "alert: $a\$" "$D/prometheus/tthc-pulse-rules.yaml" && echo yes || echo no)" \
			"rules cover $a"
		anchor=$(tr '[:upper:]' '[:lower:]' <<<"$a")
		tp_assert_eq yes "$(grep -qi "^#### $a\$" docs/operations.md && echo yes || echo no)" \
			"docs/operations.md explains $a (#$anchor)"
	done
fi
if have amtool prometheus-alertmanager; then
	check "amtool check-config alertmanager.yml" amtool check-config "$D/alertmanager/alertmanager.yml"
fi

# ---- YAML: compose and Kubernetes ------------------------------------------------
if python3 -c 'import yaml' 2>/dev/null; then
	tp_assert_eq yes yes "python3 yaml module is installed"
	check "compose.yaml and deploy/k8s/*.yaml are well-formed and consistent" \
		python3 - "$D" <<'EOF'
import glob, os, sys, yaml
d = sys.argv[1]
errors = []
def err(msg):
    errors.append(msg)

# compose: services, secrets, dependencies, probes
c = yaml.safe_load(open(os.path.join(d, "compose.yaml")))
svcs = c["services"]
for want in ["kafka", "schema-registry", "postgres", "alertmanager",
             "tthc-ingest", "tthc-route", "tthc-alert", "migrate"]:
    if want not in svcs:
        err("compose: no service %s" % want)
for name, s in svcs.items():
    if "image" not in s and "build" not in s:
        err("compose: %s has no image" % name)
    for sec in s.get("secrets", []):
        if sec not in c.get("secrets", {}):
            err("compose: %s uses undeclared secret %s" % (name, sec))
    deps = s.get("depends_on", {})
    for dep in deps:
        if dep not in svcs:
            err("compose: %s depends on unknown %s" % (name, dep))
    for k, v in (s.get("environment") or {}).items():
        if any(w in k for w in ("PASSWORD", "SECRET")) and not k.endswith("_FILE"):
            err("compose: %s puts a secret in the environment: %s" % (name, k))
        if k == "TTHC_PG":
            err("compose: %s passes the conninfo in the environment" % name)
for name in ["tthc-ingest", "tthc-route", "tthc-alert"]:
    s = svcs[name]
    if "/readyz" not in " ".join(s.get("healthcheck", {}).get("test", [])):
        err("compose: %s has no /readyz healthcheck" % name)
    if s.get("depends_on", {}).get("migrate", {}).get("condition") != "service_completed_successfully":
        err("compose: %s does not wait for the migrations" % name)
for f in ["alertmanager/alertmanager.yml", "prometheus/prometheus.yml",
          "prometheus/tthc-pulse-rules.yaml", "compose/pg-init.sh", "Dockerfile"]:
    if not os.path.exists(os.path.join(d, f)):
        err("compose: missing %s" % f)

# Kubernetes: every object named, in the namespace; Deployments probed
objs = []
for f in sorted(glob.glob(os.path.join(d, "k8s", "*.yaml"))):
    for o in yaml.safe_load_all(open(f)):
        if o:
            objs.append((os.path.basename(f), o))
names = {(o["kind"], o["metadata"]["name"]) for _, o in objs}
deployments = {}
for f, o in objs:
    for k in ("apiVersion", "kind", "metadata"):
        if k not in o:
            err("%s: object without %s" % (f, k))
    if o["kind"] != "Namespace" and o["metadata"].get("namespace") != "tthc-pulse":
        err("%s: %s %s not in namespace tthc-pulse" % (f, o["kind"], o["metadata"]["name"]))
    if o["kind"] == "Deployment":
        deployments[o["metadata"]["name"]] = o
        spec = o["spec"]
        if spec["selector"]["matchLabels"].items() - spec["template"]["metadata"]["labels"].items():
            err("%s: selector does not match the pod labels" % f)
        pod = spec["template"]["spec"]
        if not pod.get("securityContext", {}).get("runAsNonRoot"):
            err("%s: pod may run as root" % f)
        for ctr in pod["containers"]:
            ports = {p["name"]: p["containerPort"] for p in ctr.get("ports", [])}
            for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                p = ctr.get(probe, {}).get("httpGet", {})
                if p.get("path") != path:
                    err("%s: %s is not %s" % (f, probe, path))
                if p.get("port") not in ports and p.get("port") not in ports.values():
                    err("%s: %s port %s is not a container port" % (f, probe, p.get("port")))
            sc = ctr.get("securityContext", {})
            if sc.get("allowPrivilegeEscalation") is not False or not sc.get("readOnlyRootFilesystem"):
                err("%s: container %s is not locked down" % (f, ctr["name"]))
            for ef in ctr.get("envFrom", []):
                ref = ef.get("configMapRef", {}).get("name")
                if ref and ("ConfigMap", ref) not in names:
                    err("%s: unknown ConfigMap %s" % (f, ref))
            for e in ctr.get("env", []):
                if e["name"] == "TTHC_PG" or "PASSWORD" in e["name"]:
                    err("%s: secret in a plain env var %s" % (f, e["name"]))
        for v in pod.get("volumes", []):
            sec = v.get("secret", {}).get("secretName")
            if sec and ("Secret", sec) not in names:
                err("%s: unknown Secret %s" % (f, sec))
for want in ["tthc-ingest", "tthc-route", "tthc-alert"]:
    if want not in deployments:
        err("k8s: no Deployment %s" % want)
if ("ConfigMap", "tthc-pulse-config") not in names or ("Secret", "tthc-pulse-secrets") not in names:
    err("k8s: ConfigMap or Secret missing")
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
EOF
else
	tp_assert_eq yes no "python3 yaml module is installed (apt-get install python3-yaml)"
fi
if have yamllint yamllint; then
	check "yamllint (relaxed) deploy/**/*.y*ml" yamllint -s \
		-d '{extends: relaxed, rules: {line-length: disable}}' \
		"$D/compose.yaml" "$D"/k8s/*.yaml "$D"/prometheus/*.y*ml "$D"/alertmanager/*.yml
fi

# ---- example configs: librdkafka accepts the kafka.* properties ---------------------
# Each binary is started with an example config (file paths pointed at a CA
# made here, brokers unreachable) against a migrated PostgreSQL: a bad
# property stops it at once with "could not start"; a good one keeps it
# running, trying to reach the brokers.
tp_pg_start
"$TTHC_BIN/tthc-admin" migrate --pg "$TTHC_PG" --migrations schemas/sql \
	--reference reference >"$W/migrate.log" 2>&1 ||
	{ cat "$W/migrate.log" >&2; tp_die "migrate failed"; }
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=test" \
	-keyout "$W/client.key" -out "$W/ca.pem" >/dev/null 2>&1 || tp_die "openssl failed"
cp "$W/ca.pem" "$W/client.crt"
features=$(python3 -c 'import ctypes
k = ctypes.CDLL("librdkafka.so.1")
k.rd_kafka_conf_new.restype = ctypes.c_void_p
conf = ctypes.c_void_p(k.rd_kafka_conf_new())
buf = ctypes.create_string_buffer(1024)
n = ctypes.c_size_t(1024)
k.rd_kafka_conf_get(conf, b"builtin.features", buf, ctypes.byref(n))
print(buf.value.decode())' 2>/dev/null || true)
tp_log "librdkafka builtin.features: $features"
starts() { # starts BIN CONF: "running" when BIN keeps running for 3 s
	local pid
	"$TTHC_BIN/$1" --config "$2" --pg "$TTHC_PG" --brokers 127.0.0.1:1 \
		--schemas schemas/avro --http-port 0 >"$W/start.log" 2>&1 &
	pid=$!
	sleep 3
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid"
		wait "$pid" 2>/dev/null || true
		echo running
	else
		wait "$pid" 2>/dev/null || true
		grep -m 1 -o 'could not start.*' "$W/start.log" || tail -n 1 "$W/start.log"
	fi
}
for conf in "$D"/config/*.conf; do
	name=$(basename "$conf" .conf)
	if [[ $name == tthc-web ]]; then
		# no Kafka client: its own options, on any free port
		"$TTHC_BIN/tthc-web" --config "$conf" --pg "$TTHC_PG" --port 0 \
			>"$W/start.log" 2>&1 &
		pid=$!
		sleep 2
		tp_assert_eq 1 "$(kill -0 "$pid" 2>/dev/null && echo 1 || tail -n 1 "$W/start.log")" \
			"tthc-web starts with deploy/config/tthc-web.conf"
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		continue
	fi
	case $name in
	tthc-route | tthc-alert) bin=$name ;;
	*) bin=tthc-ingest ;;
	esac
	if [[ ! -x "$TTHC_BIN/$bin" ]]; then
		tp_log "$bin is not built: trying $name.conf with tthc-ingest"
		bin=tthc-ingest
	fi
	# Paths to files made here; options only one binary knows are dropped.
	sed -e "s|/etc/tthc-pulse/[a-z-]*ca.pem|$W/ca.pem|" \
		-e "s|/etc/tthc-pulse/[a-z-]*\.crt|$W/client.crt|" \
		-e "s|/etc/tthc-pulse/[a-z-]*\.key|$W/client.key|" \
		-e '/^rules *=/d' -e '/^registry *=/d' "$conf" >"$W/$name.conf"
	if [[ $name == kafka-oauthbearer && $features != *oidc* ]]; then
		# Debian 12's librdkafka 2.0.2 is built without libcurl: no OIDC.
		said=$(starts "$bin" "$W/$name.conf")
		tp_assert_eq yes "$([[ $said == *sasl.oauthbearer.method* ]] && echo yes || echo no)" \
			"$name.conf: this librdkafka ($features) has no OIDC and $bin says so clearly"
		continue
	fi
	tp_assert_eq running "$(starts "$bin" "$W/$name.conf")" \
		"$bin starts with the kafka.* properties of deploy/config/$name.conf"
done

tp_finish
