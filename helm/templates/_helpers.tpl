{{/* Names and labels. */}}
{{- define "relaykit.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "relaykit.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "relaykit.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "relaykit.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- define "relaykit.selector" -}}
app.kubernetes.io/name: {{ include "relaykit.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "relaykit.labels" -}}
{{ include "relaykit.selector" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}
{{- define "relaykit.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{/*
Which relaykit daemons run, by the same rules as relaykit-postconf
--daemons (the image's standalone mode): "true" or "".
*/}}
{{- define "relaykit.milter" -}}
{{- if or (dig "enabled" true (.Values.dkim | default dict)) (dig "enabled" false (.Values.senderValidation | default dict)) (dig "bounce" "enabled" false (.Values.inbound | default dict)) }}true{{ end -}}
{{- end -}}
{{- define "relaykit.proxy" -}}
{{- range (dig "listeners" list (.Values.mail | default dict)) }}{{ if .proxyProtocol }}true{{ end }}{{ end -}}
{{- end -}}
{{- define "relaykit.policyd" -}}
{{- if or (dig "enabled" false (.Values.rateLimit | default dict)) (dig "enabled" false (.Values.auth | default dict)) (dig "enabled" false (.Values.adaptiveRate | default dict)) (include "relaykit.proxy" .) }}true{{ end -}}
{{- end -}}
{{- define "relaykit.eventd" -}}
{{- if or (dig "enabled" false (.Values.adaptiveRate | default dict)) (dig "enabled" false (.Values.webhooks | default dict)) (dig "configurePostfix" false (.Values.eventd | default dict)) (dig "watch" "enabled" false (.Values.dashboard | default dict)) }}true{{ end -}}
{{- end -}}
{{- define "relaykit.webhookd" -}}
{{- if dig "enabled" false (.Values.webhooks | default dict) }}true{{ end -}}
{{- end -}}
{{- define "relaykit.dns" -}}
{{- if dig "enabled" false (.Values.dns | default dict) }}true{{ end -}}
{{- end -}}
{{- define "relaykit.dnsctl" -}}
{{- if and (include "relaykit.dns" .) (ne (dig "provider" "cloudflare" (.Values.dns | default dict)) "external-dns") }}true{{ end -}}
{{- end -}}
{{- define "relaykit.keygen" -}}
{{- if and (include "relaykit.milter" .) (dig "enabled" true (.Values.dkim | default dict)) (not (dig "existingSecret" "" (.Values.dkim | default dict))) }}true{{ end -}}
{{- end -}}
{{- define "relaykit.redisBundled" -}}
{{- if dig "bundled" "enabled" true (.Values.redis | default dict) }}true{{ end -}}
{{- end -}}
{{- define "relaykit.verpGenerated" -}}
{{- $b := dig "bounce" dict (.Values.inbound | default dict) -}}
{{- if and $b.enabled (not $b.hmacSecret) (not $b.hmacSecretFile) (not $b.existingSecret) }}true{{ end -}}
{{- end -}}

{{/*
The secrets mounted into the pod: a list of {name, secret, key, dir, in}.
Each sets the File twin of a relaykit key and is mounted only into the
containers of "in" (the programs that read it; "postfix" for
relaykit-postconf and relaykit-bounce, "dns" for relaykit-dnsctl).
*/}}
{{- define "relaykit.secretMounts" -}}
{{- $m := list -}}
{{- $full := include "relaykit.fullname" . -}}
{{- with dig "relay" "auth" "existingSecret" "" (.Values.mail | default dict) }}
{{- $m = append $m (dict "name" "relay" "secret" . "key" "password" "in" (list "postfix") "dir" "/etc/relaykit/secrets/relay") }}
{{- end }}
{{- with dig "existingSecret" "" (.Values.auth | default dict) }}
{{- $m = append $m (dict "name" "auth" "secret" . "key" "users" "in" (list "policyd") "dir" "/etc/relaykit/secrets/auth") }}
{{- end }}
{{- with dig "bounce" "existingSecret" "" (.Values.inbound | default dict) }}
{{- $m = append $m (dict "name" "verp" "secret" . "key" "hmacSecret" "in" (list "postfix" "milter") "dir" "/etc/relaykit/secrets/verp") }}
{{- end }}
{{- if include "relaykit.verpGenerated" . }}
{{- $m = append $m (dict "name" "verp" "secret" (printf "%s-verp" $full) "key" "hmacSecret" "in" (list "postfix" "milter") "dir" "/etc/relaykit/secrets/verp") }}
{{- end }}
{{- range $i, $e := dig "endpoints" list (.Values.webhooks | default dict) }}
{{- with $e.existingSecret }}
{{- $m = append $m (dict "name" (printf "webhook-%d" $i) "secret" . "key" "secret" "in" (list "webhookd") "dir" (printf "/etc/relaykit/secrets/webhook-%d" $i)) }}
{{- end }}
{{- end }}
{{- with dig "cloudflare" "existingSecret" "" (.Values.dns | default dict) }}
{{- $m = append $m (dict "name" "cloudflare" "secret" . "key" "apiToken" "in" (list "dns") "dir" "/etc/relaykit/secrets/cloudflare") }}
{{- end }}
{{- with dig "rfc2136" "existingSecret" "" (.Values.dns | default dict) }}
{{- $m = append $m (dict "name" "tsig" "secret" . "key" "tsigSecret" "in" (list "dns") "dir" "/etc/relaykit/secrets/tsig") }}
{{- end }}
{{- with dig "auth" "existingSecret" "" (.Values.dashboard | default dict) }}
{{- $m = append $m (dict "name" "dashboard" "secret" . "key" "password" "in" (list "eventd") "dir" "/etc/relaykit/secrets/dashboard") }}
{{- end }}
{{- with dig "existingSecret" "" (.Values.redis | default dict) }}
{{- $m = append $m (dict "name" "redis" "secret" . "key" "password" "in" (list "postfix" "milter" "policyd" "eventd" "webhookd") "dir" "/etc/relaykit/secrets/redis") }}
{{- end }}
{{- with dig "sentinelExistingSecret" "" (.Values.redis | default dict) }}
{{- $m = append $m (dict "name" "redis-sentinel" "secret" . "key" "password" "in" (list "postfix" "milter" "policyd" "eventd" "webhookd") "dir" "/etc/relaykit/secrets/redis-sentinel") }}
{{- end }}
{{- toYaml (dict "mounts" $m) -}}
{{- end -}}

{{/*
relaykit.yaml: the values' relaykit sections as they are, less the
chart's own keys (existingSecret, redis.bundled), with the File twins of
mounted secrets and the bundled Redis's host.
*/}}
{{- define "relaykit.config" -}}
{{- $v := deepCopy .Values -}}
{{- $cfg := dict -}}
{{- range list "mail" "dkim" "senderValidation" "auth" "rateLimit" "adaptiveRate" "inbound" "webhooks" "dns" "redis" "metrics" "dashboard" "milter" "policyd" "eventd" "log" "daemon" }}
{{- if hasKey $v . }}{{ $_ := set $cfg . (get $v . | default dict) }}{{ end }}
{{- end }}
{{- $full := include "relaykit.fullname" . -}}
{{- /* the chart's keys */ -}}
{{- if hasKey $cfg "mail" }}{{ with $cfg.mail.relay }}{{ with .auth }}
{{- if .existingSecret }}{{ $_ := set . "passwordFile" "/etc/relaykit/secrets/relay/password" }}{{ end }}
{{- $_ := unset . "existingSecret" }}{{ end }}{{ end }}{{ end }}
{{- with $cfg.dkim }}{{ $_ := unset . "existingSecret" }}{{ end }}
{{- with $cfg.auth }}
{{- if .existingSecret }}{{ $_ := set . "usersFile" "/etc/relaykit/secrets/auth/users" }}{{ end }}
{{- $_ := unset . "existingSecret" }}{{ end }}
{{- with $cfg.inbound }}{{ with .bounce }}
{{- if or .existingSecret (include "relaykit.verpGenerated" $) }}{{ $_ := set . "hmacSecretFile" "/etc/relaykit/secrets/verp/hmacSecret" }}{{ end }}
{{- $_ := unset . "existingSecret" }}{{ end }}{{ end }}
{{- with $cfg.webhooks }}{{ range $i, $e := .endpoints }}
{{- if $e.existingSecret }}{{ $_ := set $e "secretFile" (printf "/etc/relaykit/secrets/webhook-%d/secret" $i) }}{{ end }}
{{- $_ := unset $e "existingSecret" }}{{ end }}{{ end }}
{{- with $cfg.dns }}
{{- with .cloudflare }}{{ if .existingSecret }}{{ $_ := set . "apiTokenFile" "/etc/relaykit/secrets/cloudflare/apiToken" }}{{ end }}{{ $_ := unset . "existingSecret" }}{{ end }}
{{- with .rfc2136 }}{{ if .existingSecret }}{{ $_ := set . "tsigSecretFile" "/etc/relaykit/secrets/tsig/tsigSecret" }}{{ end }}{{ $_ := unset . "existingSecret" }}{{ end }}
{{- end }}
{{- with $cfg.dashboard }}{{ with .auth }}
{{- if .existingSecret }}{{ $_ := set . "passwordFile" "/etc/relaykit/secrets/dashboard/password" }}{{ end }}
{{- $_ := unset . "existingSecret" }}{{ end }}{{ end }}
{{- with $cfg.redis }}
{{- if .existingSecret }}{{ $_ := set . "passwordFile" "/etc/relaykit/secrets/redis/password" }}{{ end }}
{{- if .sentinelExistingSecret }}{{ $_ := set . "sentinelPasswordFile" "/etc/relaykit/secrets/redis-sentinel/password" }}{{ end }}
{{- if and (include "relaykit.redisBundled" $) (not .host) (not .socket) (not .sentinels) }}{{ $_ := set . "host" (printf "%s-redis" $full) }}{{ end }}
{{- $_ := unset . "existingSecret" }}{{ $_ := unset . "sentinelExistingSecret" }}{{ $_ := unset . "bundled" }}{{ end }}
{{- toYaml $cfg -}}
{{- end -}}

{{/* The port of postfix.smtpListen: 25 for "smtp", else its PORT. */}}
{{- define "relaykit.smtpPort" -}}
{{- $listen := .Values.postfix.smtpListen | toString -}}
{{- if eq $listen "smtp" }}25{{ else }}{{ regexFind "[0-9]+$" $listen }}{{ end -}}
{{- end -}}

{{/* A metrics port's probe: GET /healthz, over loopback. */}}
{{- define "relaykit.healthProbe" -}}
exec:
  command:
    - bash
    - -c
    - exec 3<>/dev/tcp/127.0.0.1/{{ .port }} && printf 'GET /healthz HTTP/1.0\r\n\r\n' >&3 && head -1 <&3 | grep -q ' 200 '
periodSeconds: 20
timeoutSeconds: 5
failureThreshold: 3
{{- end -}}

{{/* The securityContext of every relaykit container. */}}
{{- define "relaykit.sidecarSecurity" -}}
runAsNonRoot: true
runAsUser: {{ .Values.sidecars.runAsUser }}
runAsGroup: {{ .Values.sidecars.runAsUser }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* " include:a include:b" for the SPF record. */}}
{{- define "relaykit.spfIncludes" -}}
{{- $inc := .spfInclude | default list -}}
{{- if kindIs "string" $inc }}{{ $inc = splitList "," $inc }}{{ end -}}
{{- range $inc }} include:{{ trim . }}{{ end -}}
{{- end -}}

{{/* A mail.domains item's name and rsa selector (an item may be a bare name). */}}
{{- define "relaykit.domainName" -}}
{{- if kindIs "string" . }}{{ . }}{{ else }}{{ .name }}{{ end -}}
{{- end -}}
{{- define "relaykit.domainSelector" -}}
{{- if kindIs "string" . }}mail{{ else }}{{ .dkimSelector | default "mail" }}{{ end -}}
{{- end -}}
