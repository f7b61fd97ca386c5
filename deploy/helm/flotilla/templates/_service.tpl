{{/*
Templates shared by the six service subcharts (charts/<service>). Helm template names are
global to a release, so each subchart renders these with its own context: `.Chart.Name`
is the service, `.Values` its values, `.Values.global` the umbrella's `global`.

Argo CD sync waves (deploy/argocd): configuration (ConfigMap, Secret, ServiceAccount,
RBAC, NetworkPolicy) in wave -2, the migration Job as a Sync hook in wave -1, the
workload and everything in front of it in wave 0.
*/}}

{{- define "flotilla.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "flotilla.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "flotilla.labels" -}}
{{ include "flotilla.selectorLabels" . }}
app.kubernetes.io/part-of: flotilla
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ include "flotilla.tag" . | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "flotilla.wave" -}}
argocd.argoproj.io/sync-wave: {{ . | quote }}
{{- end -}}

{{- define "flotilla.tag" -}}
{{- .Values.global.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{- define "flotilla.image" -}}
{{- printf "%s-%s:%s" .Values.global.image.repository .Chart.Name (include "flotilla.tag" .) -}}
{{- end -}}

{{/* Non-secret environment: the global settings, the storage settings where the service keeps objects, its own. */}}
{{- define "flotilla.service.configData" -}}
{{- $data := dict -}}
{{- range $k, $v := .Values.global.config }}{{ $_ := set $data $k (toString $v) }}{{ end -}}
{{- if .Values.storage -}}
{{- $s3 := .Values.global.s3 -}}
{{- $_ := set $data "S3_ENDPOINT" (toString $s3.endpoint) -}}
{{- $_ := set $data "S3_PUBLIC_ENDPOINT" (toString $s3.publicEndpoint) -}}
{{- $_ := set $data "S3_REGION" (toString $s3.region) -}}
{{- $_ := set $data "S3_BUCKET" (toString $s3.bucket) -}}
{{- $_ := set $data "S3_FORCE_PATH_STYLE" (toString $s3.forcePathStyle) -}}
{{- end -}}
{{- $_ := set $data "HTTP_PORT" (toString .Values.port) -}}
{{- $_ := set $data "SERVICE_VERSION" (include "flotilla.tag" .) -}}
{{- range $k, $v := .Values.config }}{{ $_ := set $data $k (tpl (toString $v) $) }}{{ end -}}
{{- toYaml $data -}}
{{- end -}}

{{- define "flotilla.service.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "flotilla.fullname" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
  annotations:
    {{- include "flotilla.wave" "-2" | nindent 4 }}
data:
  {{- include "flotilla.service.configData" . | nindent 2 }}
{{- end -}}

{{- define "flotilla.service.serviceaccount" -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "flotilla.fullname" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
  annotations:
    {{- include "flotilla.wave" "-2" | nindent 4 }}
automountServiceAccountToken: {{ .Values.serviceAccount.automountToken | default false }}
{{- end -}}

{{/* The secret key of a service's AMQP_URL (its own broker user), e.g. AMQP_URL_VOTE_CONSUMER. */}}
{{- define "flotilla.amqpUrlKey" -}}
{{- printf "AMQP_URL_%s" (. | upper | replace "-" "_") -}}
{{- end -}}

{{/* The container's environment: its ConfigMap, then each secret key it reads (every service signs and verifies internal callers with INTERNAL_TOKEN_SECRET). */}}
{{- define "flotilla.service.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "flotilla.fullname" . }}
env:
  {{- range (concat (list "DATABASE_URL" "REDIS_URL" "AMQP_URL" "INTERNAL_TOKEN_SECRET") (.Values.secretEnv | default list)) }}
  - name: {{ . }}
    valueFrom:
      secretKeyRef:
        name: {{ $.Values.global.secret.name }}
        {{- /* Each service logs in to the broker as its own user: AMQP_URL from AMQP_URL_<SERVICE>. */}}
        key: {{ eq . "AMQP_URL" | ternary (include "flotilla.amqpUrlKey" $.Chart.Name) . }}
  {{- end }}
{{- end -}}

{{- define "flotilla.service.podSpecCommon" -}}
serviceAccountName: {{ include "flotilla.fullname" . }}
securityContext:
  {{- toYaml .Values.global.podSecurityContext | nindent 2 }}
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .Values.tmpSize | default "256Mi" }}
{{- end -}}

{{- define "flotilla.service.deployment" -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "flotilla.fullname" . }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
    app.kubernetes.io/component: server
  annotations:
    {{- include "flotilla.wave" "0" | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  selector:
    matchLabels:
      {{- include "flotilla.selectorLabels" . | nindent 6 }}
      app.kubernetes.io/component: server
  template:
    metadata:
      labels:
        {{- include "flotilla.labels" . | nindent 8 }}
        app.kubernetes.io/component: server
      annotations:
        checksum/config: {{ include "flotilla.service.configData" . | sha256sum }}
    spec:
      {{- include "flotilla.service.podSpecCommon" . | nindent 6 }}
      automountServiceAccountToken: {{ .Values.serviceAccount.automountToken | default false }}
      # preStop (5 s) + SHUTDOWN_GRACE_MS + closing connections.
      terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds | default 30 }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "flotilla.selectorLabels" . | nindent 14 }}
              app.kubernetes.io/component: server
      containers:
        - name: {{ .Chart.Name }}
          image: {{ include "flotilla.image" . }}
          imagePullPolicy: {{ .Values.global.image.pullPolicy }}
          ports:
            - name: http
              containerPort: {{ .Values.port }}
              protocol: TCP
          {{- include "flotilla.service.env" . | nindent 10 }}
          # Migrations, connections and consumers done: /health/startup answers 200.
          startupProbe:
            httpGet: { path: /health/startup, port: http }
            periodSeconds: 5
            timeoutSeconds: 3
            failureThreshold: {{ dig "startupFailureThreshold" 60 (.Values.probes | default dict) }}
          livenessProbe:
            httpGet: { path: /health/live, port: http }
            periodSeconds: 10
            timeoutSeconds: 3
            failureThreshold: 3
          # Every dependency answers (each check has its own 2 s timeout).
          readinessProbe:
            httpGet: { path: /health/ready, port: http }
            periodSeconds: 10
            timeoutSeconds: 5
            failureThreshold: 3
          lifecycle:
            # Leave the Service's endpoints before the process stops taking work.
            preStop:
              exec:
                command: ["sleep", "5"]
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- toYaml .Values.global.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
{{- end -}}

{{/*
The migration Job: the service's image with MIGRATE_ONLY=true runs the service's
migrations and exits. An Argo CD Sync hook in wave -1: after the configuration (wave -2),
before the Deployments (wave 0); the previous run is deleted before a new one starts.
Its name carries the Helm revision so that a plain `helm upgrade` creates a new Job
instead of changing an immutable one.
*/}}
{{- define "flotilla.service.migrationJob" -}}
{{- if .Values.migration.enabled }}
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ printf "%s-migrate-%d" (include "flotilla.fullname" .) (int .Release.Revision) | trunc 63 | trimSuffix "-" }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
    app.kubernetes.io/component: migration
  annotations:
    argocd.argoproj.io/hook: Sync
    argocd.argoproj.io/hook-delete-policy: BeforeHookCreation
    {{- include "flotilla.wave" "-1" | nindent 4 }}
spec:
  backoffLimit: {{ .Values.global.migration.backoffLimit }}
  activeDeadlineSeconds: {{ .Values.global.migration.activeDeadlineSeconds }}
  template:
    metadata:
      labels:
        {{- include "flotilla.labels" . | nindent 8 }}
        app.kubernetes.io/component: migration
    spec:
      {{- include "flotilla.service.podSpecCommon" . | nindent 6 }}
      automountServiceAccountToken: false
      restartPolicy: Never
      containers:
        - name: migrate
          image: {{ include "flotilla.image" . }}
          imagePullPolicy: {{ .Values.global.image.pullPolicy }}
          {{- include "flotilla.service.env" . | nindent 10 }}
            - name: MIGRATE_ONLY
              value: "true"
          resources:
            {{- toYaml .Values.global.migration.resources | nindent 12 }}
          securityContext:
            {{- toYaml .Values.global.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
{{- end }}
{{- end -}}

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
