package verify

import (
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/unsilo/unsilo/functions/awsfacts"
	"github.com/unsilo/unsilo/internal/manifest"
	"github.com/unsilo/unsilo/internal/verify/iampolicy"
)

// logWriter is one AWS service delivering logs to a bucket: the exact
// requests it makes, as its documentation describes them.
type logWriter struct {
	xr    manifest.Object
	cd    *unstructured.Unstructured
	field string // the producer's field that names the destination
	what  string
	// bucket is the destination's AWS name; ownerXR set when the bucket is
	// the producer's own (the trail and the lake's raw bucket).
	bucket, region string
	// requests go to the bucket, keyRequests to its SSE-KMS key.
	requests, keyRequests []iampolicy.Request
	// identity: the writer's own role policies (Firehose), nil for a
	// service principal.
	identity []*iampolicy.Policy
	sseS3    bool // the service writes only to SSE-S3 buckets
	acls     bool // the service grants with an ACL (legacy CloudFront)
	// problem: why the writer's own side cannot be judged (an unreadable
	// role policy); a finding, never a pass.
	problem string
}

// Fixed sample time of the keys the writers would use.
const (
	sampleDate = "2026/01/02"
	sampleHour = "03"
)

// checkLogDestinations: every log destination accepts its writer. For
// each composed producer (flow log, load balancer, trail, Firehose stream,
// CloudFront delivery or legacy logging) the exact requests the service
// makes (principal, object key, condition keys) are evaluated against the
// destination bucket's policy and, for SSE-KMS buckets, its key policy,
// with the IAM evaluator; a bucket no XR in the repository composes cannot
// be shown to accept anything and is a finding too.
func checkLogDestinations(all []convergedXR, account string) []Finding {
	buckets := indexBuckets(all)
	var fs []Finding
	for _, c := range all {
		for i := range c.out.Composed {
			for _, w := range writersOf(c, &c.out.Composed[i], account) {
				fs = append(fs, w.judge(buckets)...)
			}
		}
	}
	return fs
}

func (w logWriter) finding(reason string) Finding {
	f := composedFinding(w.xr, w.cd, w.field, w.what+": "+reason, "aws-log-destination")
	f.File, f.Line = w.xr.File, w.xr.Line
	return f
}

func (w logWriter) judge(buckets map[string]*bucketFacts) []Finding {
	b, ok := buckets[w.bucket]
	switch {
	case w.problem != "":
		return []Finding{w.finding(w.problem)}
	case !ok:
		return []Finding{w.finding(fmt.Sprintf("bucket %s is composed by no XR in the repository, so nothing shows that its policy admits the writer; point it at a DataLake zone", w.bucket))}
	case w.acls && b.ownership == "BucketOwnerEnforced":
		return []Finding{w.finding(fmt.Sprintf("bucket %s (%s) has ACLs disabled (BucketOwnerEnforced) and legacy CloudFront logging writes with an ACL grant: CloudFront refuses the distribution; use standard logging v2", w.bucket, b.owner))}
	case w.acls:
		return nil
	case w.sseS3 && b.kms:
		return []Finding{w.finding(fmt.Sprintf("bucket %s (%s) is SSE-KMS and this service writes only to SSE-S3 buckets", w.bucket, b.owner))}
	case b.policyErr != nil:
		return []Finding{w.finding(fmt.Sprintf("the policy of bucket %s (%s) cannot be evaluated: %v", w.bucket, b.owner, b.policyErr))}
	}
	var fs []Finding
	if w.sseS3 && b.region != "" && w.region != "" && b.region != w.region {
		fs = append(fs, w.finding(fmt.Sprintf("bucket %s is in %s and the writer in %s: the bucket must be in the load balancer's region", w.bucket, b.region, w.region)))
	}
	for _, r := range w.requests {
		v, err := iampolicy.Access{Identity: w.identity, Resource: b.policy}.Decide(r)
		if err != nil {
			return append(fs, w.finding(fmt.Sprintf("the policy of bucket %s cannot be evaluated: %v", w.bucket, err)))
		}
		if !v.Allowed {
			fs = append(fs, w.finding(fmt.Sprintf("bucket %s (%s) refuses %s: %s", w.bucket, b.owner, r, v.Reason)))
		}
	}
	if !b.kms {
		return fs
	}
	if b.keyPolicy == nil || b.keyPolicyErr != nil {
		return append(fs, w.finding(fmt.Sprintf("bucket %s is SSE-KMS with a key whose policy cannot be evaluated: %v", w.bucket, b.keyPolicyErr)))
	}
	for _, r := range w.keyRequests {
		v, err := iampolicy.Access{Identity: w.identity, Resource: b.keyPolicy, KeyPolicy: true}.Decide(r)
		if err != nil {
			return append(fs, w.finding(fmt.Sprintf("the key policy of bucket %s cannot be evaluated: %v", w.bucket, err)))
		}
		if !v.Allowed {
			fs = append(fs, w.finding(fmt.Sprintf("the key of bucket %s (%s) refuses %s: %s", w.bucket, b.owner, r, v.Reason)))
		}
	}
	return fs
}

// writersOf returns the log writers a composed resource configures.
func writersOf(c convergedXR, cd *unstructured.Unstructured, account string) []logWriter {
	fp := func(path ...string) string { return nested(cd, append([]string{"spec", "forProvider"}, path...)...) }
	base := logWriter{xr: c.xr, cd: cd, region: fp("region")}
	switch {
	case cd.GetKind() == "FlowLog" && isGroup(cd, "ec2.") && fp("logDestinationType") == "s3":
		return []logWriter{flowLogWriter(base, cd, account)}
	case cd.GetKind() == "LB" && isGroup(cd, "elbv2."):
		if b, ok, _ := unstructured.NestedBool(cd.Object, "spec", "forProvider", "accessLogs", "enabled"); ok && b {
			return []logWriter{elbWriter(base, fp("accessLogs", "bucket"), fp("accessLogs", "prefix"), account)}
		}
	case cd.GetKind() == "Trail" && isGroup(cd, "cloudtrail."):
		return []logWriter{trailWriter(base, c, cd, account)}
	case cd.GetKind() == "DeliveryStream" && isGroup(cd, "firehose."):
		if w, ok := firehoseWriter(base, c, cd, account); ok {
			return []logWriter{w}
		}
	case cd.GetKind() == "Distribution" && isGroup(cd, "cloudfront."):
		logging, _, _ := unstructured.NestedSlice(cd.Object, "spec", "forProvider", "loggingConfig")
		for _, l := range logging {
			m, _ := l.(map[string]any)
			base.field, base.what, base.acls = "spec.forProvider.loggingConfig", "legacy CloudFront logging", true
			base.bucket = strings.TrimSuffix(str(m["bucket"]), ".s3.amazonaws.com")
			return []logWriter{base}
		}
	case cd.GetKind() == "Resource" && isGroup(cd, "cloudcontrol.") && fp("typeName") == "AWS::Logs::DeliveryDestination":
		if w, ok := cloudFrontV2Writer(base, c, cd, account); ok {
			return []logWriter{w}
		}
	}
	return nil
}

func s3Object(bucket, key string) string { return "arn:aws:s3:::" + bucket + "/" + key }

// vendedLogs are the requests of CloudWatch's vended-log delivery
// (delivery.logs.amazonaws.com: VPC Flow Logs, CloudFront v2), from the
// bucket and key policies AWS documents for it.
func vendedLogs(w *logWriter, key, sourceARN, account string) {
	ctx := map[string][]string{"aws:SourceAccount": {account}, "aws:SourceArn": {sourceARN}, "aws:SecureTransport": {"true"}}
	svc := iampolicy.Principal{Service: "delivery.logs.amazonaws.com"}
	put := map[string][]string{"s3:x-amz-acl": {"bucket-owner-full-control"}}
	for k, v := range ctx {
		put[k] = v
	}
	w.requests = []iampolicy.Request{
		{Principal: svc, Action: "s3:GetBucketAcl", Resource: "arn:aws:s3:::" + w.bucket, Context: ctx},
		{Principal: svc, Action: "s3:ListBucket", Resource: "arn:aws:s3:::" + w.bucket, Context: ctx},
		{Principal: svc, Action: "s3:PutObject", Resource: s3Object(w.bucket, key), Context: put},
	}
	w.keyRequests = []iampolicy.Request{{Principal: svc, Action: "kms:GenerateDataKey", Resource: "arn:aws:kms:" + w.region + ":" + account + ":key/lake", Context: ctx}}
}

// flowLogWriter: VPC Flow Logs write <folder>/AWSLogs/<acct>/vpcflowlogs/
// <region>/yyyy/mm/dd[/HH]/ or, with Hive-compatible partitions,
// <folder>/AWSLogs/aws-account-id=<acct>/aws-service=vpcflowlogs/
// aws-region=<region>/year=/month=/day=[/hour=]/ (VPC User Guide, flow log
// files).
func flowLogWriter(w logWriter, cd *unstructured.Unstructured, account string) logWriter {
	w.field, w.what = "spec.forProvider.logDestination", "VPC Flow Logs"
	dest := strings.TrimPrefix(nested(cd, "spec", "forProvider", "logDestination"), "arn:aws:s3:::")
	bucket, folder, _ := strings.Cut(dest, "/")
	if folder != "" && !strings.HasSuffix(folder, "/") {
		folder += "/"
	}
	w.bucket = bucket
	opts, _, _ := unstructured.NestedSlice(cd.Object, "spec", "forProvider", "destinationOptions")
	var hive, hourly bool
	if m, ok := firstMap(cd, "destinationOptions", opts); ok {
		hive, _ = m["hiveCompatiblePartitions"].(bool)
		hourly, _ = m["perHourPartition"].(bool)
	}
	y, mo, d := "2026", "01", "02"
	file := account + "_vpcflowlogs_" + w.region + "_fl-0123456789abcdef0_20260102T0305Z_0a1b2c3d.log.gz"
	var key string
	if hive {
		key = folder + "AWSLogs/aws-account-id=" + account + "/aws-service=vpcflowlogs/aws-region=" + w.region + "/year=" + y + "/month=" + mo + "/day=" + d + "/"
		if hourly {
			key += "hour=" + sampleHour + "/"
		}
	} else {
		key = folder + "AWSLogs/" + account + "/vpcflowlogs/" + w.region + "/" + y + "/" + mo + "/" + d + "/"
		if hourly {
			key += sampleHour + "/"
		}
	}
	vendedLogs(&w, key+file, "arn:aws:logs:"+w.region+":"+account+":*", account)
	return w
}

// firstMap returns a destinationOptions-like field whether the provider
// renders it as an object or a one-element list.
func firstMap(cd *unstructured.Unstructured, field string, list []any) (map[string]any, bool) {
	if len(list) > 0 {
		m, ok := list[0].(map[string]any)
		return m, ok
	}
	m, ok, _ := unstructured.NestedMap(cd.Object, "spec", "forProvider", field)
	return m, ok
}

// elbWriter: ELB writes bucket[/prefix]/AWSLogs/<acct>/elasticloadbalancing/
// <region>/yyyy/mm/dd/<file>, and a test file AWSLogs/<acct>/
// ELBAccessLogTestFile when logging is enabled, as its regional account or
// service principal (awsfacts.ELBLogAccounts), to SSE-S3 buckets only.
func elbWriter(w logWriter, bucket, prefix, account string) logWriter {
	w.field, w.what, w.bucket, w.sseS3 = "spec.forProvider.accessLogs", "ELB access logs", bucket, true
	root := "AWSLogs/" + account + "/"
	if prefix = strings.Trim(prefix, "/"); prefix != "" {
		root = prefix + "/" + root
	}
	aws, svc := awsfacts.ELBLogPrincipal(w.region)
	who := iampolicy.Principal{AWS: aws, Service: svc}
	ctx := map[string][]string{"aws:SecureTransport": {"true"}}
	file := account + "_elasticloadbalancing_" + w.region + "_app.shop.0123456789abcdef_20260102T0305Z_10.0.0.1_abcd.log.gz"
	w.requests = []iampolicy.Request{
		{Principal: who, Action: "s3:PutObject", Resource: s3Object(bucket, root+"ELBAccessLogTestFile"), Context: ctx},
		{Principal: who, Action: "s3:PutObject", Resource: s3Object(bucket, root+"elasticloadbalancing/"+w.region+"/"+sampleDate+"/"+file), Context: ctx},
	}
	return w
}

// trailWriter: CloudTrail checks the bucket ACL and writes
// <prefix>/AWSLogs/<acct>/CloudTrail/<region>/yyyy/mm/dd/<file> with
// bucket-owner-full-control, naming the trail in aws:SourceArn; with a KMS
// key it asks for data keys under the trail's encryption context.
func trailWriter(w logWriter, c convergedXR, cd *unstructured.Unstructured, account string) logWriter {
	w.field, w.what = "spec.forProvider.s3BucketName", "CloudTrail"
	w.bucket = nested(cd, "spec", "forProvider", "s3BucketName")
	if comp := component(cd, "s3BucketNameSelector"); comp != "" {
		w.bucket = externalName(c, comp)
	}
	name := cd.GetAnnotations()["crossplane.io/external-name"]
	trail := "arn:aws:cloudtrail:" + w.region + ":" + account + ":trail/" + name
	prefix := strings.Trim(nested(cd, "spec", "forProvider", "s3KeyPrefix"), "/")
	if prefix != "" {
		prefix += "/"
	}
	svc := iampolicy.Principal{Service: "cloudtrail.amazonaws.com"}
	ctx := map[string][]string{"aws:SourceArn": {trail}, "aws:SourceAccount": {account}, "aws:SecureTransport": {"true"}}
	put := map[string][]string{"s3:x-amz-acl": {"bucket-owner-full-control"}}
	for k, v := range ctx {
		put[k] = v
	}
	key := prefix + "AWSLogs/" + account + "/CloudTrail/" + w.region + "/" + sampleDate + "/" + account + "_CloudTrail_" + w.region + "_20260102T0305Z_abcd.json.gz"
	w.requests = []iampolicy.Request{
		{Principal: svc, Action: "s3:GetBucketAcl", Resource: "arn:aws:s3:::" + w.bucket, Context: ctx},
		{Principal: svc, Action: "s3:PutObject", Resource: s3Object(w.bucket, key), Context: put},
	}
	if nested(cd, "spec", "forProvider", "kmsKeyId") != "" {
		kctx := map[string][]string{"kms:EncryptionContext:aws:cloudtrail:arn": {trail}}
		for k, v := range ctx {
			kctx[k] = v
		}
		key := "arn:aws:kms:" + w.region + ":" + account + ":key/lake"
		w.keyRequests = []iampolicy.Request{
			{Principal: svc, Action: "kms:GenerateDataKey", Resource: key, Context: kctx},
			{Principal: svc, Action: "kms:DescribeKey", Resource: key, Context: ctx},
		}
	}
	return w
}

// externalName is the AWS name of a composed resource of the same XR.
func externalName(c convergedXR, comp string) string {
	for i := range c.out.Composed {
		cd := &c.out.Composed[i]
		if cd.GetAnnotations()["crossplane.io/composition-resource-name"] == comp {
			return cd.GetAnnotations()["crossplane.io/external-name"]
		}
	}
	return ""
}

// cloudFrontV2Writer: CloudFront standard logging v2 is a vended-log
// delivery from us-east-1 to the destination's bucket, under the
// delivery's S3 suffix path.
func cloudFrontV2Writer(w logWriter, c convergedXR, cd *unstructured.Unstructured, account string) (logWriter, bool) {
	var dest struct{ DestinationResourceArn string }
	if json.Unmarshal([]byte(nested(cd, "spec", "forProvider", "desiredState")), &dest) != nil || !strings.HasPrefix(dest.DestinationResourceArn, "arn:aws:s3:::") {
		return w, false
	}
	w.field, w.what = "spec.forProvider.desiredState.DestinationResourceArn", "CloudFront standard logging v2"
	bucket, folder, _ := strings.Cut(strings.TrimPrefix(dest.DestinationResourceArn, "arn:aws:s3:::"), "/")
	w.bucket = bucket
	suffix := "AWSLogs/" + account + "/CloudFront/"
	for i := range c.out.Composed {
		d := &c.out.Composed[i]
		if isGroup(d, "cloudcontrol.") && nested(d, "spec", "forProvider", "typeName") == "AWS::Logs::Delivery" {
			var del struct{ S3SuffixPath string }
			if json.Unmarshal([]byte(nested(d, "spec", "forProvider", "desiredState")), &del) == nil && del.S3SuffixPath != "" {
				suffix = strings.NewReplacer("{DistributionId}", "E1ABCDEF2GHIJK", "{yyyy}", "2026", "{MM}", "01", "{dd}", "02", "{HH}", sampleHour).Replace(del.S3SuffixPath)
			}
		}
	}
	key := strings.Trim(folder, "/")
	if key != "" {
		key += "/"
	}
	key += strings.Trim(suffix, "/") + "/E1ABCDEF2GHIJK.2026-01-02-03.abcd.gz"
	vendedLogs(&w, key, "arn:aws:logs:us-east-1:"+account+":delivery-source:"+nameOf(cd), account)
	return w, true
}

func nameOf(cd *unstructured.Unstructured) string {
	var s struct{ Name string }
	_ = json.Unmarshal([]byte(nested(cd, "spec", "forProvider", "desiredState")), &s)
	return s.Name
}

// firehoseWriter: Firehose assumes its role (with the account id as
// external id) and writes as that role under the stream's prefix and error
// prefix, encrypting through S3 with the stream's key; the role's own
// policies must allow it and the bucket's must not deny it.
func firehoseWriter(w logWriter, c convergedXR, cd *unstructured.Unstructured, account string) (logWriter, bool) {
	s3cfg, ok := firstMap(cd, "extendedS3Configuration", nil)
	if !ok {
		list, _, _ := unstructured.NestedSlice(cd.Object, "spec", "forProvider", "extendedS3Configuration")
		if s3cfg, ok = firstMap(cd, "", list); !ok {
			return w, false
		}
	}
	w.field, w.what = "spec.forProvider.extendedS3Configuration", "Firehose"
	w.bucket = strings.TrimPrefix(str(s3cfg["bucketArn"]), "arn:aws:s3:::")
	if sel, ok := s3cfg["bucketArnSelector"].(map[string]any); ok {
		labels, _ := sel["matchLabels"].(map[string]any)
		w.bucket = externalName(c, str(labels["platform.unsilo.dev/component"]))
	}
	roleComp := ""
	if sel, ok := s3cfg["roleArnSelector"].(map[string]any); ok {
		labels, _ := sel["matchLabels"].(map[string]any)
		roleComp = str(labels["platform.unsilo.dev/component"])
	}
	role := composedNamed(c, roleComp)
	if role == nil {
		w.problem = "the stream's role is not a composed Role of this XR: nothing shows it may write"
		return w, true
	} else {
		for _, doc := range inlinePolicies(role) {
			p, err := iampolicy.ParseString(doc)
			if err != nil {
				w.problem = fmt.Sprintf("the policy of role %s cannot be evaluated: %v", roleComp, err)
				return w, true
			}
			w.identity = append(w.identity, p)
		}
	}
	who := iampolicy.Principal{AWS: "arn:aws:iam::" + account + ":role/" + roleComp}
	expand := strings.NewReplacer("!{timestamp:yyyy-MM-dd}", "2026-01-02", "!{timestamp:HH}", sampleHour, "!{timestamp:yyyy}", "2026",
		"!{timestamp:MM}", "01", "!{timestamp:dd}", "02", "!{firehose:error-output-type}", "processing-failed")
	ctx := map[string][]string{"aws:SecureTransport": {"true"}}
	for _, p := range []string{str(s3cfg["prefix"]), str(s3cfg["errorOutputPrefix"])} {
		w.requests = append(w.requests, iampolicy.Request{Principal: who, Action: "s3:PutObject",
			Resource: s3Object(w.bucket, expand.Replace(p)+"aws-waf-logs-1-2026-01-02-03-05-00-0a1b2c3d.gz"), Context: ctx})
	}
	if k := str(s3cfg["kmsKeyArn"]); k != "" {
		w.keyRequests = []iampolicy.Request{{Principal: who, Action: "kms:GenerateDataKey", Resource: k,
			Context: map[string][]string{"kms:ViaService": {"s3." + w.region + ".amazonaws.com"}}}}
	}
	return w, true
}

func composedNamed(c convergedXR, comp string) *unstructured.Unstructured {
	for i := range c.out.Composed {
		if c.out.Composed[i].GetAnnotations()["crossplane.io/composition-resource-name"] == comp {
			return &c.out.Composed[i]
		}
	}
	return nil
}

// inlinePolicies are the policy documents of a composed IAM Role.
func inlinePolicies(role *unstructured.Unstructured) []string {
	list, _, _ := unstructured.NestedSlice(role.Object, "spec", "forProvider", "inlinePolicy")
	var out []string
	for _, p := range list {
		m, _ := p.(map[string]any)
		if d := str(m["policy"]); d != "" {
			out = append(out, d)
		}
	}
	return out
}
