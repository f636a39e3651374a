{{/*
Helpers in the shape `helm create` gives, extended for a chart with two workloads.
Most helpers take a context dict: (dict "root" $ "key" "backend") where key is backend or frontend;
the workload's values are then `index .root.Values .key`.
*/}}

{{/* Chart name and version, for the helm.sh/chart label. */}}
{{- define "hackathon-todo.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The two workloads, in render order. */}}
{{- define "hackathon-todo.workloads" -}}
backend frontend
{{- end }}

{{/* Selector labels: immutable on a Deployment, so only name and instance. Scripts select pods by these. */}}
{{- define "hackathon-todo.selectorLabels" -}}
{{- $c := index .root.Values .key -}}
app.kubernetes.io/name: {{ $c.name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
{{- end }}

{{/* Common labels of every object that belongs to a workload. */}}
{{- define "hackathon-todo.labels" -}}
{{- $c := index .root.Values .key -}}
helm.sh/chart: {{ include "hackathon-todo.chart" .root }}
{{ include "hackathon-todo.selectorLabels" . }}
app.kubernetes.io/version: {{ $c.image.tag | default .root.Chart.AppVersion | toString | trunc 63 | quote }}
app.kubernetes.io/component: {{ .key }}
app.kubernetes.io/part-of: hackathon-todo
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
{{- end }}

{{/* Labels of release-wide objects (Ingress, test Pod). */}}
{{- define "hackathon-todo.releaseLabels" -}}
helm.sh/chart: {{ include "hackathon-todo.chart" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: hackathon-todo
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The image reference. Stops the render when the tag is empty (a deploy must name the commit SHA),
and when global.environment is production and the tag is "latest".
*/}}
{{- define "hackathon-todo.image" -}}
{{- $c := index .root.Values .key -}}
{{- $tag := $c.image.tag | toString -}}
{{- if not $tag -}}
{{- fail (printf "%s.image.tag is required and has no default: pass the commit SHA, e.g. --set-string %s.image.tag=$(git rev-parse --short=12 HEAD)" .key .key) -}}
{{- end -}}
{{- if and (eq .root.Values.global.environment "production") (eq (lower $tag) "latest") -}}
{{- fail (printf "%s.image.tag \"%s\" is refused when global.environment is production: deploy an immutable commit-SHA tag (--set-string %s.image.tag=<sha>)" .key $tag .key) -}}
{{- end -}}
{{- printf "%s:%s" $c.image.repository $tag -}}
{{- end }}

{{/* The ConfigMap body of a workload; rendered by configmap.yaml and hashed into checksum/config. */}}
{{- define "hackathon-todo.configData" -}}
{{- $c := index .root.Values .key -}}
PORT: {{ $c.containerPort | toString | quote }}
{{- if eq .key "frontend" }}
{{- $b := .root.Values.backend }}
BACKEND_URL: {{ printf "http://%s:%v" $b.name $b.service.port | quote }}
{{- end }}
{{- range $k, $v := $c.env }}
{{ $k }}: {{ $v | toString | quote }}
{{- end }}
{{- end }}

{{/* Secret-backed env vars for a workload's app container, from .Values.secrets. */}}
{{- define "hackathon-todo.secretEnv" -}}
{{- $key := .key -}}
{{- range $envName, $s := .root.Values.secrets }}
{{- if has $key $s.containers }}
- name: {{ $envName }}
  valueFrom:
    secretKeyRef:
      name: {{ $s.secretName }}
      key: {{ $s.key }}
{{- end }}
{{- end }}
{{- end }}

{{/* Dapr sidecar annotations for a workload (only called when its dapr.enabled is true). */}}
{{- define "hackathon-todo.daprAnnotations" -}}
{{- $c := index .root.Values .key -}}
{{- $d := .root.Values.dapr -}}
dapr.io/enabled: "true"
dapr.io/app-id: {{ $c.dapr.appId | quote }}
dapr.io/app-port: {{ $c.containerPort | toString | quote }}
dapr.io/config: {{ $d.config | quote }}
dapr.io/log-level: {{ $d.logLevel | quote }}
dapr.io/log-as-json: "true"
dapr.io/enable-metrics: "true"
dapr.io/metrics-port: {{ $d.metricsPort | toString | quote }}
dapr.io/sidecar-cpu-request: {{ $d.sidecar.cpuRequest | quote }}
dapr.io/sidecar-cpu-limit: {{ $d.sidecar.cpuLimit | quote }}
dapr.io/sidecar-memory-request: {{ $d.sidecar.memoryRequest | quote }}
dapr.io/sidecar-memory-limit: {{ $d.sidecar.memoryLimit | quote }}
dapr.io/sidecar-seccomp-profile-type: RuntimeDefault
dapr.io/graceful-shutdown-seconds: {{ $d.gracefulShutdownSeconds | toString | quote }}
{{- if $c.dapr.appHealthCheck.enabled }}
dapr.io/enable-app-health-check: "true"
dapr.io/app-health-check-path: {{ $c.healthPath | quote }}
dapr.io/app-health-probe-interval: {{ $c.dapr.appHealthCheck.intervalSeconds | toString | quote }}
dapr.io/app-health-probe-timeout: {{ $c.dapr.appHealthCheck.timeoutMilliseconds | toString | quote }}
dapr.io/app-health-threshold: {{ $c.dapr.appHealthCheck.threshold | toString | quote }}
{{- end }}
{{- end }}

{{/* Container securityContext shared by every container the chart defines. */}}
{{- define "hackathon-todo.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
allowPrivilegeEscalation: false
privileged: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* Pod securityContext shared by every pod the chart defines. */}}
{{- define "hackathon-todo.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end }}
