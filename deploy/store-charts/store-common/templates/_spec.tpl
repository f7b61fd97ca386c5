{{/*
What a store spec sets in the app container (docs/STORE-SPEC.md): its plain env after the
chart's own (the provisioner refuses the names the chart fills from generated secrets), and
its readiness or liveness probe in place of the chart's. `.Values.spec` is written by the
provisioner from the store's desired state.
*/}}
{{- define "store.specEnv" -}}
{{- range (.Values.spec).env }}
- name: {{ .name }}
  value: {{ .value | quote }}
{{- end }}
{{- end }}

{{/* A spec probe (dict "probe" the spec's probe): httpGet on the given port, else the container's `http` port. */}}
{{- define "store.specProbe" -}}
httpGet:
  path: {{ .probe.httpGet.path | quote }}
  port: {{ .probe.httpGet.port | default "http" }}
{{- range $key := list "periodSeconds" "initialDelaySeconds" "timeoutSeconds" "failureThreshold" }}
{{- with (get $.probe $key) }}
{{ $key }}: {{ int . }}
{{- end }}
{{- end }}
{{- end }}
