{{/* The provisioner's cluster-wide ClusterRole (namespaces only), unique per installation. */}}
{{- define "provisioner.clusterRole" -}}
{{- printf "%s-%s" .Release.Namespace (include "flotilla.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The ClusterRole the driver binds in each store namespace (STORE_OPERATOR_CLUSTER_ROLE). */}}
{{- define "provisioner.storeOperatorRole" -}}
{{- printf "%s-%s-store-operator" .Release.Namespace (include "flotilla.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
