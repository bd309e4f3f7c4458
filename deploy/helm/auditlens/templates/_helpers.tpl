{{/* Names, labels and the pieces every auditlens pod shares. */}}

{{- define "auditlens.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "auditlens.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "auditlens.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "auditlens.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: auditlens
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "scorer") */}}
{{- define "auditlens.selectorLabels" -}}
app.kubernetes.io/name: {{ include "auditlens.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "auditlens.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "auditlens.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "auditlens.secretName" -}}
{{- default (printf "%s-secrets" (include "auditlens.fullname" .)) .Values.secrets.existingSecret -}}
{{- end -}}

{{- define "auditlens.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end -}}
{{- end -}}

{{- define "auditlens.trackingUri" -}}
{{- if .Values.mlflow.trackingUri -}}
{{ .Values.mlflow.trackingUri }}
{{- else if .Values.mlflow.server.enabled -}}
http://{{ include "auditlens.fullname" . }}-mlflow:{{ .Values.mlflow.server.port }}
{{- end -}}
{{- end -}}

{{/* Pod-level security: an unprivileged user, the runtime's default seccomp profile. */}}
{{- define "auditlens.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Container-level security: read-only root, no privilege escalation, no capabilities. */}}
{{- define "auditlens.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Settings and secrets as environment, the same for every component. */}}
{{- define "auditlens.envFrom" -}}
- configMapRef:
    name: {{ include "auditlens.fullname" . }}-config
- secretRef:
    name: {{ include "auditlens.secretName" . }}
{{- end -}}

{{/* Startup, liveness and readiness probes on a named port: (dict "root" $ "port" "http") */}}
{{- define "auditlens.probes" -}}
startupProbe:
  httpGet: {path: /livez, port: {{ .port }}}
  {{- toYaml .root.Values.probes.startup | nindent 2 }}
livenessProbe:
  httpGet: {path: /livez, port: {{ .port }}}
  {{- toYaml .root.Values.probes.liveness | nindent 2 }}
readinessProbe:
  httpGet: {path: /readyz, port: {{ .port }}}
  {{- toYaml .root.Values.probes.readiness | nindent 2 }}
{{- end -}}

{{/* Writable scratch space on a read-only root: /tmp and the data directory. */}}
{{- define "auditlens.scratchVolumes" -}}
- name: tmp
  emptyDir: {sizeLimit: 256Mi}
- name: data
  emptyDir: {sizeLimit: 1Gi}
{{- end -}}

{{- define "auditlens.scratchMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /var/lib/auditlens
{{- end -}}
