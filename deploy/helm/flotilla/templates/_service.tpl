{{/*
Templates shared by the six service subcharts (charts/<service>). Helm template names are
global to a release, so each subchart renders these with its own context: `.Chart.Name`
is the service, `.Values` its values, `.Values.global` the umbrella's `global`.

Argo CD sync waves (deploy/argocd): configuration (ConfigMap, Secret, ServiceAccount,
RBAC, NetworkPolicy) in wave -2, the migration Job as a Sync hook in wave -1, the
workload and everything in front of it in wave 0.

The pieces live beside this file: _names.tpl, _service-config.tpl, _service-workloads.tpl,
_service-network.tpl, _service-scaling.tpl and _service-monitoring.tpl.
*/}}

{{/* Everything a service subchart renders. */}}
{{- define "flotilla.service" -}}
{{ include "flotilla.service.configmap" . }}
---
{{ include "flotilla.service.serviceaccount" . }}
---
{{ include "flotilla.service.deployment" . }}
---
{{ include "flotilla.service.service" . }}
{{- $optional := list (include "flotilla.service.migrationJob" .) (include "flotilla.service.hpa" .) (include "flotilla.service.pdb" .) (include "flotilla.service.networkpolicy" .) (include "flotilla.service.servicemonitor" .) (include "flotilla.service.ingress" .) }}
{{- range $optional }}
{{- if trim . }}
---
{{ trim . }}
{{- end }}
{{- end }}
{{- end -}}
