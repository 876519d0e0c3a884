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

{{/* Refuse settings that would break MCP sessions: they live in one broker process. */}}
{{- define "mcp-broker.validate" -}}
{{- $scaled := or (gt (int .Values.replicaCount) 1) (and .Values.autoscaling.enabled (gt (int .Values.autoscaling.maxReplicas) 1)) }}
{{- if and $scaled (not .Values.sharedState.enabled) }}
{{- fail "replicaCount (or autoscaling.maxReplicas) > 1 needs shared state: MCP sessions live in one broker process, so a second replica breaks sessions. Run 1 replica until the scale-out work (a shared session store) lands; see README \"Deploying\"." }}
{{- end }}
{{- if .Values.sharedState.enabled }}
{{- fail "sharedState.enabled: this broker version has no shared session store yet (scale-out work, README \"Deploying\"); set it to false and run 1 replica." }}
{{- end }}
{{- if not .Values.existingSecret }}
{{- fail "existingSecret is required: the name of a Secret whose keys are mounted under /run/secrets/mcp-broker (see NOTES / README \"Deploying\")." }}
{{- end }}
{{- if and (eq .Values.audit.mode "persistentVolume") .Values.autoscaling.enabled }}
{{- fail "audit.mode=persistentVolume uses one ReadWriteOnce claim: it cannot be combined with autoscaling." }}
{{- end }}
{{- if and (not .Values.metrics.enabled) (or .Values.metrics.serviceMonitor.enabled .Values.metrics.prometheusRule.enabled) }}
{{- fail "metrics.serviceMonitor / metrics.prometheusRule need metrics.enabled: without it the broker serves no /metrics, so nothing would be scraped and no alert could fire." }}
{{- end }}
{{- if eq (int .Values.metrics.port) (int .Values.containerPort) }}
{{- fail "metrics.port must differ from containerPort: /metrics has a listener of its own, off the MCP port." }}
{{- end }}
{{- end }}

{{/* The broker configuration: values.config with what the chart owns (bind addresses, ports, metrics, audit,
watermark), without the chart's own setting restartOnChange (the broker's parser refuses unknown keys). */}}
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
{{- $_ := set $config "server" $server }}
{{- toYaml $config }}
{{- end }}
