{{/*
A service's network: its Service, NetworkPolicy and Ingress (see _service.tpl).
*/}}

{{- define "flotilla.service.service" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "flotilla.fullname" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
    app.kubernetes.io/component: server
  annotations:
    {{- include "flotilla.wave" "0" | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "flotilla.selectorLabels" . | nindent 4 }}
    app.kubernetes.io/component: server
  ports:
    - name: http
      port: {{ .Values.port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{- define "flotilla.egressRule" -}}
- ports:
    {{- range .ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with .to }}
  to:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}

{{- define "flotilla.service.networkpolicy" -}}
{{- if .Values.global.networkPolicy.enabled }}
{{- $np := .Values.global.networkPolicy -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "flotilla.fullname" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
  annotations:
    {{- include "flotilla.wave" "-2" | nindent 4 }}
spec:
  # The service's pods and its migration Job.
  podSelector:
    matchLabels:
      {{- include "flotilla.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    # Prometheus scrapes /metrics.
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $np.monitoringNamespace }}
      ports:
        - port: http
          protocol: TCP
    {{- if .Values.networkPolicy.fromIngressController }}
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $np.ingressControllerNamespace }}
      ports:
        - port: http
          protocol: TCP
    {{- end }}
    {{- range .Values.networkPolicy.fromServices }}
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: {{ . }}
              app.kubernetes.io/instance: {{ $.Release.Name }}
      ports:
        - port: http
          protocol: TCP
    {{- end }}
  egress:
    # DNS
    - to:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: kube-system
          podSelector:
            matchLabels:
              k8s-app: kube-dns
      ports:
        - port: 53
          protocol: UDP
        - port: 53
          protocol: TCP
    {{- include "flotilla.egressRule" $np.postgres | nindent 4 }}
    {{- include "flotilla.egressRule" $np.redis | nindent 4 }}
    {{- include "flotilla.egressRule" $np.rabbitmq | nindent 4 }}
    {{- if .Values.storage }}
    {{- include "flotilla.egressRule" $np.s3 | nindent 4 }}
    {{- end }}
    {{- if .Values.networkPolicy.toKubernetesApi }}
    {{- include "flotilla.egressRule" $np.kubernetesApi | nindent 4 }}
    {{- end }}
    {{- if .Values.networkPolicy.toNotifications }}
    {{- include "flotilla.egressRule" $np.notifications | nindent 4 }}
    {{- end }}
    {{- with .Values.global.tracing.otlpEndpoint }}
    {{- /* The collector: the endpoint's port, or its scheme's default. */}}
    {{- $url := urlParse . }}
    {{- $hostPort := splitList ":" $url.host }}
    {{- $port := gt (len $hostPort) 1 | ternary (last $hostPort) (eq $url.scheme "https" | ternary "443" "80") }}
    {{- include "flotilla.egressRule" (dict "ports" (list (atoi $port)) "to" $.Values.global.tracing.to) | nindent 4 }}
    {{- end }}
    {{- range .Values.networkPolicy.toServices }}
    - to:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: {{ .name }}
              app.kubernetes.io/instance: {{ $.Release.Name }}
      ports:
        - port: {{ .port }}
          protocol: TCP
    {{- end }}
{{- end }}
{{- end -}}

{{- define "flotilla.service.ingress" -}}
{{- if and .Values.global.ingress.enabled .Values.ingress.enabled }}
{{- $ing := .Values.global.ingress -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {{ include "flotilla.fullname" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
  annotations:
    {{- include "flotilla.wave" "0" | nindent 4 }}
    nginx.ingress.kubernetes.io/custom-headers: {{ printf "%s/%s-security-headers" .Release.Namespace .Release.Name }}
    {{- if $ing.tls.enabled }}
    nginx.ingress.kubernetes.io/force-ssl-redirect: "true"
    {{- end }}
    {{- with $ing.annotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    {{- with .Values.ingress.annotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  ingressClassName: {{ $ing.className }}
  {{- if $ing.tls.enabled }}
  tls:
    - hosts: [{{ $ing.host | quote }}]
      secretName: {{ $ing.tls.secretName }}
  {{- end }}
  rules:
    - host: {{ $ing.host | quote }}
      http:
        paths:
          {{- range .Values.ingress.paths }}
          - path: {{ . }}
            pathType: Prefix
            backend:
              service:
                name: {{ include "flotilla.fullname" $ }}
                port:
                  name: http
          {{- end }}
{{- end }}
{{- end -}}
