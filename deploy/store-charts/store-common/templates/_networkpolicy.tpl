{{/*
The store's NetworkPolicies, given the chart's backends (its database, and Redis for
Medusa) as a list of {component, port}:
  app       HTTP from the ingress controller's namespace only; out to each backend, DNS
            and, unless networkPolicy.internetEgress is false, public addresses on 80/443
  backends  reached by the app and the install Job only; out to DNS only
  install   out to each backend and DNS only
Usage: include "store.networkPolicies" (dict "root" . "backends" (list (dict "component" "database" "port" 3306)))
*/}}
{{- define "store.networkPolicies" -}}
{{- $root := .root -}}
{{- $backends := .backends -}}
{{- if $root.Values.networkPolicy.enabled }}
{{- $fullname := include "store.fullname" $root }}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $fullname }}-app
  labels:
    {{- include "store.labels" $root | nindent 4 }}
    app.kubernetes.io/component: app
spec:
  podSelector:
    matchLabels:
      {{- include "store.selectorLabels" $root | nindent 6 }}
      app.kubernetes.io/component: app
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - from:
        - namespaceSelector:
            matchLabels:
              kubernetes.io/metadata.name: {{ $root.Values.networkPolicy.ingressNamespace }}
      ports:
        - protocol: TCP
          port: http
  egress:
    {{- include "store.backendEgress" (dict "root" $root "backends" $backends) | nindent 4 }}
    {{- include "store.dnsEgress" $root | nindent 4 }}
    {{- if $root.Values.networkPolicy.internetEgress }}
    - to:
        - ipBlock:
            cidr: 0.0.0.0/0
            except:
              - 10.0.0.0/8
              - 172.16.0.0/12
              - 192.168.0.0/16
              - 169.254.0.0/16
      ports:
        - protocol: TCP
          port: 80
        - protocol: TCP
          port: 443
    {{- end }}
{{- range $backends }}
---
# {{ .component }}: reached by the app and the install Job only; talks to nobody.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $fullname }}-{{ .component }}
  labels:
    {{- include "store.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
spec:
  podSelector:
    matchLabels:
      {{- include "store.selectorLabels" $root | nindent 6 }}
      app.kubernetes.io/component: {{ .component }}
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - from:
        - podSelector:
            matchLabels:
              {{- include "store.selectorLabels" $root | nindent 14 }}
              app.kubernetes.io/component: app
        - podSelector:
            matchLabels:
              {{- include "store.selectorLabels" $root | nindent 14 }}
              app.kubernetes.io/component: install
      ports:
        - protocol: TCP
          port: {{ .port }}
  egress:
    {{- include "store.dnsEgress" $root | nindent 4 }}
{{- end }}
---
# The install Job: out to the backends and DNS only.
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $fullname }}-install
  labels:
    {{- include "store.labels" $root | nindent 4 }}
    app.kubernetes.io/component: install
spec:
  podSelector:
    matchLabels:
      {{- include "store.selectorLabels" $root | nindent 6 }}
      app.kubernetes.io/component: install
  policyTypes:
    - Ingress
    - Egress
  egress:
    {{- include "store.backendEgress" (dict "root" $root "backends" $backends) | nindent 4 }}
    {{- include "store.dnsEgress" $root | nindent 4 }}
{{- end }}
{{- end }}

{{/* Egress rules to each backend's pods on its port. */}}
{{- define "store.backendEgress" -}}
{{- $root := .root -}}
{{- range $i, $backend := .backends }}
{{- if $i }}
{{ end -}}
- to:
    - podSelector:
        matchLabels:
          {{- include "store.selectorLabels" $root | nindent 10 }}
          app.kubernetes.io/component: {{ $backend.component }}
  ports:
    - protocol: TCP
      port: {{ $backend.port }}
{{- end }}
{{- end }}

{{/* The Service of one revision's pods, {release}-r{revision}: include "store.revisionService" (dict "root" $ "revision" $revision) */}}
{{- define "store.revisionService" -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "store.fullname" .root }}-r{{ .revision }}
  labels:
    {{- include "store.labels" .root | nindent 4 }}
    app.kubernetes.io/component: app
    flotilla.io/revision: {{ .revision | quote }}
spec:
  type: ClusterIP
  selector:
    {{- include "store.selectorLabels" .root | nindent 4 }}
    app.kubernetes.io/component: app
    flotilla.io/revision: {{ .revision | quote }}
  ports:
    - name: http
      port: 80
      targetPort: http
      protocol: TCP
{{- end }}
