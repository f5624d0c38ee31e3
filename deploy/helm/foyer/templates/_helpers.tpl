{{/* Names and labels, the usual Helm way. */}}
{{- define "foyer.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "foyer.fullname" -}}
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

{{- define "foyer.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "foyer.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one component: (dict "root" $ "component" "gateway"). */}}
{{- define "foyer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "foyer.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "foyer.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The gateway Service's in-cluster URL. */}}
{{- define "foyer.gatewayURL" -}}
{{- printf "http://%s-gateway" (include "foyer.fullname" .) }}
{{- if ne (int .Values.gateway.service.port) 80 }}:{{ .Values.gateway.service.port }}{{ end }}
{{- end }}

{{/*
The settings of one component: config, then the component's config over
it, then what the chart derives when the operator left it empty. Empty
values are dropped, so the program's default applies. Returns YAML.
*/}}
{{- define "foyer.settings" -}}
{{- $root := .root }}
{{- $settings := deepCopy (default dict $root.Values.config) }}
{{- range $name, $value := (default dict .own) }}
{{- $_ := set $settings $name $value }}
{{- end }}
{{- if and (not $settings.FOYER_PUBLIC_URL) $root.Values.ingress.enabled }}
{{- $scheme := ternary "https" "http" (gt (len $root.Values.ingress.tls) 0) }}
{{- $_ := set $settings "FOYER_PUBLIC_URL" (printf "%s://%s" $scheme $root.Values.ingress.host) }}
{{- end }}
{{- $kept := dict }}
{{- range $name, $value := $settings }}
{{- if and (kindIs "float64" $value) (eq $value (float64 (int64 $value))) }}
{{- /* A whole number as digits: 1000000, never 1e+06. */}}
{{- $_ := set $kept $name (printf "%d" (int64 $value)) }}
{{- else if ne (toString $value) "" }}
{{- $_ := set $kept $name (toString $value) }}
{{- end }}
{{- end }}
{{- toYaml $kept }}
{{- end }}

{{/* env entries for a settings map (from foyer.settings), sorted by name. */}}
{{- define "foyer.settingsEnv" -}}
{{- $settings := fromYaml . }}
{{- range $name := keys $settings | sortAlpha }}
- name: {{ $name }}
  value: {{ index $settings $name | quote }}
{{- end }}
{{- end }}

{{/* One env entry read from the operator's Secret: (dict "root" $ "name" "FOYER_X" "optional" false). */}}
{{- define "foyer.secretEnv" -}}
- name: {{ .name }}
  valueFrom:
    secretKeyRef:
      name: {{ .root.Values.existingSecret }}
      key: {{ .name }}
      {{- if .optional }}
      optional: true
      {{- end }}
{{- end }}

{{/* The node ID: the pod's name, which the admission leases and the workers' consumers are named by. */}}
{{- define "foyer.nodeIDEnv" -}}
- name: FOYER_NODE_ID
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end }}

{{/* "true" when a component's settings (YAML from foyer.settings) name Stripe as the payment provider. */}}
{{- define "foyer.stripe" -}}
{{- if eq (toString (fromYaml .).FOYER_PAYMENT_PROVIDER) "stripe" }}true{{ end }}
{{- end }}

{{- define "foyer.podSecurity" -}}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end }}

{{/* Scheduling of one component's pods: (dict "root" $ "values" .Values.gateway). */}}
{{- define "foyer.scheduling" -}}
{{- with .values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .values.topologySpreadConstraints }}
topologySpreadConstraints:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
