{{/*
The Ingress of the host (the main revision), the canary Ingress of a second revision with
traffic, and the preview Service of a weight-0 revision: see store.routing.
*/}}
{{- define "store.ingresses" -}}
{{- $fullname := include "store.fullname" . }}
{{- $routing := include "store.routing" . | fromJson }}
{{- $host := required "host is required: the store's host, {name}.{BASE_DOMAIN}" .Values.host }}
{{- $className := required "ingress.className is required" .Values.ingress.className }}
{{- $main := $routing.main }}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "store.labels" . | nindent 4 }}
    app.kubernetes.io/component: app
    flotilla.io/revision: {{ int $main.revision | quote }}
  {{- with .Values.ingress.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  ingressClassName: {{ $className }}
  {{- if .Values.ingress.tls.enabled }}
  tls:
    - hosts:
        - {{ $host | quote }}
      secretName: {{ .Values.ingress.tls.secretName | default (printf "%s-tls" $fullname) }}
  {{- end }}
  rules:
    - host: {{ $host | quote }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ $fullname }}-r{{ int $main.revision }}
                port:
                  name: http
{{- with $routing.canary }}
---
# The canary: nginx sends this share of the host's requests to the second revision.
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ $fullname }}-canary
  labels:
    {{- include "store.labels" $ | nindent 4 }}
    app.kubernetes.io/component: app
    flotilla.io/revision: {{ int .revision | quote }}
  annotations:
    {{- with $.Values.ingress.annotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    nginx.ingress.kubernetes.io/canary: "true"
    nginx.ingress.kubernetes.io/canary-weight: {{ int .weight | quote }}
spec:
  ingressClassName: {{ $className }}
  {{- if $.Values.ingress.tls.enabled }}
  tls:
    - hosts:
        - {{ $host | quote }}
      secretName: {{ $.Values.ingress.tls.secretName | default (printf "%s-tls" $fullname) }}
  {{- end }}
  rules:
    - host: {{ $host | quote }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ $fullname }}-r{{ int .revision }}
                port:
                  name: http
{{- end }}
{{- range $routing.previews }}
---
# Blue/green: the revision waiting for the switch, reachable inside the cluster only.
apiVersion: v1
kind: Service
metadata:
  name: {{ $fullname }}-preview
  labels:
    {{- include "store.labels" $ | nindent 4 }}
    app.kubernetes.io/component: app
    flotilla.io/revision: {{ int .revision | quote }}
spec:
  type: ClusterIP
  selector:
    {{- include "store.selectorLabels" $ | nindent 4 }}
    app.kubernetes.io/component: app
    flotilla.io/revision: {{ int .revision | quote }}
  ports:
    - name: http
      port: 80
      targetPort: http
      protocol: TCP
{{- end }}
{{- end }}
