{{/* At most maxUnavailable of the app's pods (every revision) go down at once in a drain. */}}
{{- define "store.podDisruptionBudget" -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "store.fullname" . }}-app
  labels:
    {{- include "store.labels" . | nindent 4 }}
    app.kubernetes.io/component: app
spec:
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "store.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: app
{{- end }}
