{{/*
The in-cluster development servers (charts/postgresql, redis, rabbitmq, minio): one
StatefulSet each, its Service and a NetworkPolicy that lets in the Flotilla pods only.
Argo CD wave -3: up before the migrations (wave -1). Values of each chart: image, uid,
ports, args, env (templated), initContainers and extraVolumes (templated), extraVolumeMounts,
dataPath, writablePaths, probes, resources, persistence.
*/}}
{{- define "flotilla.infra" -}}
{{- $name := include "flotilla.fullname" . -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ $name }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
  annotations:
    {{- include "flotilla.wave" "-3" | nindent 4 }}
spec:
  type: ClusterIP
  selector:
    {{- include "flotilla.selectorLabels" . | nindent 4 }}
  ports:
    {{- range .Values.ports }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: TCP
    {{- end }}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: {{ $name }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
  annotations:
    {{- include "flotilla.wave" "-3" | nindent 4 }}
spec:
  serviceName: {{ $name }}
  replicas: 1
  selector:
    matchLabels:
      {{- include "flotilla.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "flotilla.labels" . | nindent 8 }}
    spec:
      automountServiceAccountToken: false
      securityContext:
        runAsNonRoot: true
        runAsUser: {{ .Values.uid }}
        runAsGroup: {{ .Values.uid }}
        fsGroup: {{ .Values.uid }}
        seccompProfile:
          type: RuntimeDefault
      {{- with .Values.initContainers }}
      initContainers:
        {{- tpl (toYaml .) $ | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .Chart.Name }}
          image: {{ .Values.image }}
          imagePullPolicy: IfNotPresent
          {{- with .Values.args }}
          args:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          {{- with .Values.env }}
          env:
            {{- tpl (toYaml .) $ | nindent 12 }}
          {{- end }}
          ports:
            {{- range .Values.ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: TCP
            {{- end }}
          readinessProbe:
            {{- toYaml .Values.probes.readiness | nindent 12 }}
          livenessProbe:
            {{- toYaml .Values.probes.liveness | nindent 12 }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          securityContext:
            {{- toYaml .Values.global.containerSecurityContext | nindent 12 }}
          volumeMounts:
            - name: data
              mountPath: {{ .Values.dataPath }}
            {{- range $i, $path := .Values.writablePaths }}
            - name: {{ printf "scratch-%d" $i }}
              mountPath: {{ $path }}
            {{- end }}
            {{- with .Values.extraVolumeMounts }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
      volumes:
        {{- range $i, $path := .Values.writablePaths }}
        - name: {{ printf "scratch-%d" $i }}
          emptyDir: {}
        {{- end }}
        {{- with .Values.extraVolumes }}
        {{- tpl (toYaml .) $ | nindent 8 }}
        {{- end }}
        {{- if not .Values.persistence.enabled }}
        - name: data
          emptyDir: {}
        {{- end }}
  {{- if .Values.persistence.enabled }}
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        {{- with .Values.persistence.storageClassName }}
        storageClassName: {{ . }}
        {{- end }}
        resources:
          requests:
            storage: {{ .Values.persistence.size }}
  {{- end }}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ $name }}
  labels:
    {{- include "flotilla.labels" . | nindent 4 }}
  annotations:
    {{- include "flotilla.wave" "-3" | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "flotilla.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress, Egress]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/part-of: flotilla
              app.kubernetes.io/instance: {{ .Release.Name }}
        {{- with .Values.allowFrom }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      ports:
        {{- range .Values.ports }}
        - port: {{ .port }}
          protocol: TCP
        {{- end }}
  # These servers call out to nothing.
  egress: []
{{- end -}}
