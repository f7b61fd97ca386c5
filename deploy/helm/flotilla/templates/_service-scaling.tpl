{{/*
A service's scaling and disruption limits: HorizontalPodAutoscaler and PodDisruptionBudget (see _service.tpl).
*/}}

{{- define "flotilla.service.hpa" -}}
{{- if .Values.autoscaling.enabled }}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "flotilla.fullname" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
  annotations:
    {{- include "flotilla.wave" "0" | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "flotilla.fullname" . }}
  minReplicas: {{ .Values.autoscaling.minReplicas }}
  maxReplicas: {{ .Values.autoscaling.maxReplicas }}
  metrics:
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ .Values.autoscaling.targetCPUUtilizationPercentage }}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 300
      policies:
        - type: Pods
          value: 1
          periodSeconds: 60
{{- end }}
{{- end -}}

{{- define "flotilla.service.pdb" -}}
{{- if .Values.pdb.enabled }}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "flotilla.fullname" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
  annotations:
    {{- include "flotilla.wave" "0" | nindent 4 }}
spec:
  maxUnavailable: {{ .Values.pdb.maxUnavailable | default 1 }}
  selector:
    matchLabels:
      {{- include "flotilla.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
{{- end }}
{{- end -}}

{{/* One egress rule: `ports` on TCP to `to` (any address when empty). */}}
