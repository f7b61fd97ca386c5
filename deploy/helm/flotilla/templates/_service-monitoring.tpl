{{/*
A service's ServiceMonitor for the Prometheus operator (see _service.tpl).
*/}}

{{- define "flotilla.service.servicemonitor" -}}
{{- if .Values.global.serviceMonitor.enabled }}
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: {{ include "flotilla.fullname" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
    {{- with .Values.global.serviceMonitor.labels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- include "flotilla.wave" "0" | nindent 4 }}
spec:
  # job="<service>" in every series, as the alert rules and dashboards expect.
  jobLabel: app.kubernetes.io/name
  selector:
    matchLabels:
      {{- include "flotilla.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
  endpoints:
    - port: http
      path: /metrics
      # rpc_duration_seconds has its own `service` label (the callee): keep it.
      honorLabels: true
      interval: {{ .Values.global.serviceMonitor.interval }}
      scrapeTimeout: {{ .Values.global.serviceMonitor.scrapeTimeout }}
{{- end }}
{{- end -}}

{{/* Ingress for the service's public paths (gateway: the API; admin: the console). */}}
