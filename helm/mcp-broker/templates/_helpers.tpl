{{/* Chart name, truncated to the 63 characters a label value allows. */}}
{{- define "mcp-broker.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Fully qualified app name: release-chart unless the release name already contains the chart name. */}}
{{- define "mcp-broker.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "mcp-broker.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Standard labels (app.kubernetes.io/*) on every object. */}}
{{- define "mcp-broker.labels" -}}
helm.sh/chart: {{ include "mcp-broker.chart" . }}
{{ include "mcp-broker.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: mcp-broker
{{- end }}

{{/* Selector labels: stable across upgrades (a Deployment's selector is immutable). */}}
{{- define "mcp-broker.selectorLabels" -}}
app.kubernetes.io/name: {{ include "mcp-broker.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "mcp-broker.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "mcp-broker.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* repository:tag, or repository@digest when a digest is given. */}}
{{- define "mcp-broker.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "mcp-broker.testImage" -}}
{{- if .Values.tests.image.digest }}
{{- printf "%s@%s" .Values.tests.image.repository .Values.tests.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.tests.image.repository .Values.tests.image.tag }}
{{- end }}
{{- end }}

{{/* resources.limits.memory in MiB (Mi, Gi, M, G or plain bytes). */}}
{{- define "mcp-broker.memoryLimitMiB" -}}
{{- $raw := toString .Values.resources.limits.memory }}
{{- if hasSuffix "Gi" $raw }}{{ mul (trimSuffix "Gi" $raw | atoi) 1024 }}
{{- else if hasSuffix "Mi" $raw }}{{ trimSuffix "Mi" $raw | atoi }}
{{- else if hasSuffix "G" $raw }}{{ div (mul (trimSuffix "G" $raw | atoi) 1000000000) 1048576 }}
{{- else if hasSuffix "M" $raw }}{{ div (mul (trimSuffix "M" $raw | atoi) 1000000) 1048576 }}
{{- else }}{{ div (atoi $raw) 1048576 }}
{{- end }}
{{- end }}

{{/* The call deadline in whole seconds (server.default_timeout_ms, 30 s when unset), rounded up. */}}
{{- define "mcp-broker.callDeadlineSeconds" -}}
{{- $ms := int (dig "server" "default_timeout_ms" 30000 .Values.config) }}
{{- div (add $ms 999) 1000 }}
{{- end }}

{{/* "true" when more than one pod may run: replicaCount > 1, or an HPA allowed to go above 1. */}}
{{- define "mcp-broker.scaled" -}}
{{- if or (gt (int .Values.replicaCount) 1) (and .Values.autoscaling.enabled (gt (int .Values.autoscaling.maxReplicas) 1)) }}true{{ end }}
{{- end }}

{{/* The most pods that can run at once (MCP_BROKER_REPLICAS): the HPA's maximum, else replicaCount (at least 1).
While Redis is down each pod enforces rate / this count, so the deployment stays at or below the configured rate. */}}
{{- define "mcp-broker.replicaBudget" -}}
{{- if .Values.autoscaling.enabled }}{{ max 1 (int .Values.autoscaling.maxReplicas) }}{{ else }}{{ max 1 (int .Values.replicaCount) }}{{ end }}
{{- end }}

{{/* Whether the audit volume can be written by several pods at once (ReadWriteMany). */}}
{{- define "mcp-broker.auditShared" -}}
{{- if has "ReadWriteMany" (.Values.audit.persistentVolume.accessModes | default list) }}true{{ end }}
{{- end }}

{{/* Where the Redis password file is: the Secret's own mount, or the existingSecret mount when it is that Secret. */}}
{{- define "mcp-broker.redisPasswordDir" -}}
{{- if eq .Values.sharedState.redis.passwordSecret.name .Values.existingSecret }}/run/secrets/mcp-broker{{ else }}/run/secrets/mcp-broker-redis{{ end }}
{{- end }}

{{/* Whether the Redis password Secret needs a volume of its own. */}}
{{- define "mcp-broker.redisPasswordVolume" -}}
{{- with .Values.sharedState }}{{ if and .enabled .redis.passwordSecret.name (ne .redis.passwordSecret.name $.Values.existingSecret) }}true{{ end }}{{ end }}
{{- end }}

{{/* server.shared_state as YAML: Redis, the replica count from the pod's environment, timeout and key prefix.
Secrets stay references (file:...). */}}
{{- define "mcp-broker.sharedStateConfig" -}}
{{- $r := .Values.sharedState.redis }}
{{- $redis := dict "address" $r.address "database" (int $r.database) "tls" $r.tls }}
{{- with $r.username }}{{ $_ := set $redis "username" . }}{{ end }}
{{- if $r.passwordSecret.name }}
{{- $_ := set $redis "password" (printf "file:%s/%s" (include "mcp-broker.redisPasswordDir" .) $r.passwordSecret.key) }}
{{- end }}
{{- with $r.tlsCAFile }}
{{- $_ := set $redis "tls_ca_file" (ternary . (printf "/run/secrets/mcp-broker/%s" .) (hasPrefix "/" .)) }}
{{- end }}
{{- with $r.tlsServerName }}{{ $_ := set $redis "tls_server_name" . }}{{ end }}
{{- $prefix := .Values.sharedState.keyPrefix | default (printf "%s:" (include "mcp-broker.fullname" .)) }}
{{- toYaml (dict "redis" $redis "replicas" "env:MCP_BROKER_REPLICAS" "timeout_ms" (int .Values.sharedState.timeoutMs) "key_prefix" $prefix) }}
{{- end }}

{{/* Refuse settings that would break MCP sessions, limits or the audit trail. */}}
{{- define "mcp-broker.validate" -}}
{{- $scaled := include "mcp-broker.scaled" . }}
{{- if and $scaled (not .Values.sharedState.enabled) }}
{{- fail "replicaCount (or autoscaling.maxReplicas) > 1 needs shared state: MCP sessions live in one broker process unless the replicas share sessions, confirmations, cursors and rate limits through Redis -- a second replica would break sessions and multiply every limit. Set sharedState.enabled with sharedState.redis.address and requestState.keySecretKey (README \"Deploying\", deploy/README.md \"Several replicas\"), or run 1 replica." }}
{{- end }}
{{- if not .Values.existingSecret }}
{{- fail "existingSecret is required: the name of a Secret whose keys are mounted under /run/secrets/mcp-broker (see NOTES / README \"Deploying\")." }}
{{- end }}
{{- if .Values.sharedState.enabled }}
{{- if not .Values.sharedState.redis.address }}
{{- fail "sharedState.enabled needs sharedState.redis.address: host:port of the Redis-protocol service every replica reaches." }}
{{- end }}
{{- if not .Values.requestState.keySecretKey }}
{{- fail "sharedState.enabled needs requestState.keySecretKey: the key in existingSecret holding at least 32 random bytes (openssl rand -base64 48). Every replica seals and opens sessions, cursors and confirmations with it; a per-process key would make the other replicas refuse them." }}
{{- end }}
{{- if and .Values.sharedState.redis.passwordSecret.name (not .Values.sharedState.redis.passwordSecret.key) }}
{{- fail "sharedState.redis.passwordSecret.key is required with passwordSecret.name: the key of that Secret that holds the Redis password." }}
{{- end }}
{{- if and (not .Values.sharedState.redis.tls) (or .Values.sharedState.redis.tlsCAFile .Values.sharedState.redis.tlsServerName) }}
{{- fail "sharedState.redis.tlsCAFile / tlsServerName need sharedState.redis.tls: true." }}
{{- end }}
{{- end }}
{{- if hasKey (.Values.config.server | default dict) "shared_state" }}
{{- fail "config.server.shared_state is rendered by the chart: set sharedState.* instead (the chart also wires the replica count and the password Secret)." }}
{{- end }}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) }}
{{- fail "autoscaling.minReplicas must not exceed autoscaling.maxReplicas." }}
{{- end }}
{{- if and (eq .Values.audit.mode "persistentVolume") (or $scaled .Values.autoscaling.enabled) (not (include "mcp-broker.auditShared" .)) }}
{{- fail "audit.mode=persistentVolume with a ReadWriteOnce volume cannot serve several replicas (or an HPA): pods on different nodes cannot mount it. Use audit.mode=stdout (shipped by the log agent), or a ReadWriteMany storage class with audit.persistentVolume.accessModes: [ReadWriteMany] (each pod then writes its own directory)." }}
{{- end }}
{{- if and .Values.podDisruptionBudget.enabled (hasKey .Values.podDisruptionBudget "minAvailable") (not (kindIs "string" .Values.podDisruptionBudget.minAvailable)) }}
{{- $fewest := ternary (int .Values.autoscaling.minReplicas) (int .Values.replicaCount) .Values.autoscaling.enabled }}
{{- if ge (int .Values.podDisruptionBudget.minAvailable) $fewest }}
{{- fail "podDisruptionBudget.minAvailable must be below the replica count (autoscaling.minReplicas with the HPA): otherwise no pod may ever be evicted and every node drain blocks." }}
{{- end }}
{{- end }}
{{- if and (not .Values.metrics.enabled) (or .Values.metrics.serviceMonitor.enabled .Values.metrics.prometheusRule.enabled) }}
{{- fail "metrics.serviceMonitor / metrics.prometheusRule need metrics.enabled: without it the broker serves no /metrics, so nothing would be scraped and no alert could fire." }}
{{- end }}
{{- if eq (int .Values.metrics.port) (int .Values.containerPort) }}
{{- fail "metrics.port must differ from containerPort: /metrics has a listener of its own, off the MCP port." }}
{{- end }}
{{- end }}

{{/* The broker configuration: values.config with what the chart owns (bind addresses, ports, metrics, audit,
watermark, shared state, the request-state key), without the chart's own setting restartOnChange (the broker's parser refuses unknown keys). */}}
{{- define "mcp-broker.config" -}}
{{- $config := omit (deepCopy .Values.config) "restartOnChange" }}
{{- $server := get $config "server" | default dict }}
{{- $http := get $server "http" | default dict }}
{{- $_ := set $http "host" "0.0.0.0" }}
{{- $_ := set $http "port" (int .Values.containerPort) }}
{{- $_ := set $server "http" $http }}
{{- if .Values.metrics.enabled }}
{{- $_ := set $server "metrics" (dict "host" "0.0.0.0" "port" (int .Values.metrics.port) "path" .Values.metrics.path) }}
{{- else }}
{{- $_ := unset $server "metrics" }}
{{- end }}
{{- $audit := get $server "audit" | default dict }}
{{- if eq .Values.audit.mode "persistentVolume" }}
{{- $_ := set $audit "path" "/var/log/mcp-broker/audit.jsonl" }}
{{- else }}
{{- $_ := set $audit "path" "/dev/stdout" }}
{{- end }}
{{- $_ := set $server "audit" $audit }}
{{- $limits := get $server "limits" | default dict }}
{{- $watermark := div (mul (include "mcp-broker.memoryLimitMiB" . | int) (int .Values.memoryWatermarkPercent)) 100 }}
{{- $_ := set $limits "memory_watermark_mb" (int $watermark) }}
{{- $_ := set $server "limits" $limits }}
{{- if .Values.sharedState.enabled }}
{{- $_ := set $server "shared_state" (include "mcp-broker.sharedStateConfig" . | fromYaml) }}
{{- end }}
{{- if .Values.requestState.keySecretKey }}
{{- $requestState := get $server "request_state" | default dict }}
{{- $_ := set $requestState "key" (printf "file:/run/secrets/mcp-broker/%s" .Values.requestState.keySecretKey) }}
{{- with .Values.requestState.previousKeySecretKey }}
{{- $_ := set $requestState "previous_key" (printf "file:/run/secrets/mcp-broker/%s" .) }}
{{- end }}
{{- $_ := set $server "request_state" $requestState }}
{{- end }}
{{- $_ := set $config "server" $server }}
{{- toYaml $config }}
{{- end }}
