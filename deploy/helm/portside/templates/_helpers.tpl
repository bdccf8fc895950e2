{{/* The chart's name, or nameOverride. */}}
{{- define "portside.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The objects' base name: fullnameOverride, else the release name (with the chart's name
added when the release name does not already hold it). 63 characters at most (DNS labels). */}}
{{- define "portside.fullname" -}}
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

{{/* Labels on every object. */}}
{{- define "portside.labels" -}}
app.kubernetes.io/name: {{ include "portside.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{ include "portside.metaLabels" . }}
{{- end }}

{{/* The labels that say which chart and version made an object (every object, every pod). */}}
{{- define "portside.metaLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/version: {{ include "portside.tag" . | trunc 63 | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The labels that select the serving pods. The component label keeps the migration Job's pods
out of the Service, the PodDisruptionBudget and the spread constraints. */}}
{{- define "portside.selectorLabels" -}}
app.kubernetes.io/name: {{ include "portside.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: server
{{- end }}

{{- define "portside.tag" -}}
{{- default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* The image reference: a digest wins over the tag. */}}
{{- define "portside.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (include "portside.tag" .) }}
{{- end }}
{{- end }}

{{- define "portside.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "portside.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The replicas the cluster keeps at the least: HPA's minimum, or replicas. */}}
{{- define "portside.minReplicas" -}}
{{- if .Values.autoscaling.enabled }}{{ .Values.autoscaling.minReplicas | int }}{{ else }}{{ .Values.replicas | int }}{{ end }}
{{- end }}

{{/* Settings the chart sets itself, so config must not: where Portside listens, the database (a
Secret), where the mounted files are, and whether serve migrates (the Job does). */}}
{{- define "portside.managedSettings" -}}
config addr database git-cache-dir argocd-token-dir migrate kubernetes-jobs-in-cluster kubernetes-jobs-namespace
{{- end }}

{{/* Secret settings (config's Secret: true): their values come from Secrets, never from values. */}}
{{- define "portside.secretSettings" -}}
auth-client-secret encryption-key metrics-token argocd-tokens github-token github-webhook-secret gitlab-token gitlab-webhook-secret slack-signing-secret slack-bot-token alertmanager-webhook-token alertmanager-webhook-password
{{- end }}

{{/* portside.yaml: values.config, checked, with the settings the chart manages. A whole number
is written as one (YAML numbers reach templates as float64, which would print 1.6777216e+07). */}}
{{- define "portside.configFile" -}}
{{- $managed := splitList " " (include "portside.managedSettings" .) }}
{{- $secret := splitList " " (include "portside.secretSettings" .) }}
{{- $settings := dict }}
{{- range $k, $v := .Values.config }}
{{- if has $k $secret }}
{{- fail (printf "config.%s is a secret: put it in a Secret and reference it (secrets.* or secrets.extraEnv), never in values" $k) }}
{{- end }}
{{- if has $k $managed }}
{{- fail (printf "config.%s is set by the chart; see values.yaml for the value that controls it" $k) }}
{{- end }}
{{- if kindIs "map" $v }}
{{- fail (printf "config.%s must be a single value (Portside's settings are flat; lists are comma separated)" $k) }}
{{- end }}
{{- if kindIs "slice" $v }}
{{- fail (printf "config.%s must be a single value: write a list comma separated" $k) }}
{{- end }}
{{- if and (kindIs "float64" $v) (eq $v (floor $v)) }}
{{- $_ := set $settings $k (int64 $v | toString) }}
{{- else if and (not (kindIs "invalid" $v)) (ne (toString $v) "") }}
{{- $_ := set $settings $k (toString $v) }}
{{- end }}
{{- end }}
{{- if .Values.migration.enabled }}
{{- $_ := set $settings "migrate" "false" }}
{{- end }}
{{- if .Values.secrets.argocdTokens.name }}
{{- $_ := set $settings "argocd-token-dir" "/var/run/secrets/portside/argocd" }}
{{- end }}
{{- if .Values.secrets.slack.name }}
{{- $_ := set $settings "slack-signing-secret-file" "/var/run/secrets/portside/slack/signing-secret" }}
{{- $_ := set $settings "slack-bot-token-file" "/var/run/secrets/portside/slack/bot-token" }}
{{- end }}
{{- if .Values.pipelinesRBAC.enabled }}
{{- $_ := set $settings "kubernetes-jobs-in-cluster" "true" }}
{{- $_ := set $settings "kubernetes-jobs-namespace" (required "pipelinesRBAC.namespace: the namespace the Kubernetes Jobs pipeline provider runs its Jobs in" .Values.pipelinesRBAC.namespace) }}
{{- end }}
{{- range $k := keys $settings | sortAlpha }}
{{ $k }}: {{ get $settings $k | quote }}
{{- end }}
{{- end }}

{{/* The pod security context of every pod the chart runs: the image's numeric non-root user. */}}
{{- define "portside.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/* The container security context: nothing beyond what Portside needs (it writes only to its
emptyDirs, binds an unprivileged port and starts its companion as a child process). */}}
{{- define "portside.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end }}

{{/* An env entry read from a Secret's key. */}}
{{- define "portside.secretEnv" -}}
- name: {{ .env }}
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
      {{- if get . "optional" }}
      optional: true
      {{- end }}
{{- end }}
