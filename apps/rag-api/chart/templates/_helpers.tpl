{{- define "rag-api.labels" -}}
app.kubernetes.io/name: rag-api
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}
{{- define "rag-api.selector" -}}
app.kubernetes.io/name: rag-api
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
