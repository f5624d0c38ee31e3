{{/*
What the schema cannot say, refused with the reason before anything is
rendered. Included once, by the gateway's Deployment.
*/}}
{{- define "foyer.checks" -}}
{{- $g := .Values.gateway }}
{{- $drain := add (int $g.preStopSleepSeconds) (int $g.shutdownGraceSeconds) }}
{{- if le (int $g.terminationGracePeriodSeconds) $drain }}
{{- fail (printf "gateway.terminationGracePeriodSeconds (%d) must be more than gateway.preStopSleepSeconds (%d) plus gateway.shutdownGraceSeconds (%d): a draining gateway would be killed before its requests in flight finish" (int $g.terminationGracePeriodSeconds) (int $g.preStopSleepSeconds) (int $g.shutdownGraceSeconds)) }}
{{- end }}
{{- if and .Values.ingress.enabled (not .Values.ingress.host) }}
{{- fail "ingress.enabled needs ingress.host: the host name shoppers reach Foyer at (queue.example.com)" }}
{{- end }}
{{- end }}
