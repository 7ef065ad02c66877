package webportal

import (
	elbv2 "github.com/upbound/provider-aws/v2/apis/namespaced/elbv2/v1beta1"

	"github.com/unsilo/unsilo/functions/compose"
)

// tlsPolicy allows TLS 1.2 and 1.3 only.
const tlsPolicy = "ELBSecurityPolicy-TLS13-1-2-2021-06"

func (b *builder) loadBalancer() {
	prod := b.spec.Environment == "prod"
	b.out.Add("alb", &elbv2.LB{
		ObjectMeta: b.meta("alb"),
		Spec: elbv2.LBSpec{ForProvider: elbv2.LBParameters{
			Region:                   b.regionPtr(),
			LoadBalancerType:         compose.Ptr("application"),
			Internal:                 compose.Ptr(false),
			SubnetSelector:           b.subnets("public"),
			SecurityGroupSelector:    ref(sgALB),
			DropInvalidHeaderFields:  compose.Ptr(true),
			EnableDeletionProtection: compose.Ptr(prod),
			AccessLogs: &elbv2.AccessLogsParameters{
				Enabled: compose.Ptr(true),
				Bucket:  compose.Ptr(b.spec.AccessLogs.Bucket),
				Prefix:  compose.Ptr(b.spec.AccessLogs.Prefix),
			},
			Tags: b.tag.Tags("alb"),
		}},
	})
	in := b.spec.Instances
	b.out.Add("target-group", &elbv2.LBTargetGroup{
		ObjectMeta: b.meta("target-group"),
		Spec: elbv2.LBTargetGroupSpec{ForProvider: elbv2.LBTargetGroupParameters{
			Region:              b.regionPtr(),
			Name:                compose.Ptr(compose.ShortName(b.req.XR, "tg", 32)),
			VPCIDSelector:       b.vpc(),
			TargetType:          compose.Ptr("instance"),
			Port:                compose.Ptr(float64(in.Port)),
			Protocol:            compose.Ptr("HTTP"),
			DeregistrationDelay: compose.Ptr("30"),
			HealthCheck: &elbv2.HealthCheckParameters{
				Enabled: compose.Ptr(true), Path: compose.Ptr(in.HealthCheckPath), Matcher: compose.Ptr("200-399"),
				Interval: compose.Ptr(15.0), HealthyThreshold: compose.Ptr(2.0), UnhealthyThreshold: compose.Ptr(3.0),
			},
			Tags: b.tag.Tags("target-group"),
		}},
	})
	// Listeners forward to the target group by the ARN AWS reported, not by
	// a selector: a selector inside the action list makes the provider's
	// reference resolver and Crossplane's apply own that atomic list in
	// turn, rewriting the listener on every pass.
	tg := b.req.AtProvider("target-group", "arn")
	if tg == "" {
		b.out.Defer("listeners", "the ARN of target-group")
		return
	}
	forward := []elbv2.DefaultActionParameters{{Type: compose.Ptr("forward"), TargetGroupArn: compose.Ptr(tg)}}
	if b.spec.HTTPS.AllowHTTPOnly {
		b.listener("listener-http", 80, "HTTP", forward)
		return
	}
	b.listener("listener-http", 80, "HTTP", []elbv2.DefaultActionParameters{{
		Type: compose.Ptr("redirect"),
		Redirect: &elbv2.RedirectParameters{
			Protocol: compose.Ptr("HTTPS"), Port: compose.Ptr("443"), StatusCode: compose.Ptr("HTTP_301"),
		},
	}})
	https := b.listener("listener-https", 443, "HTTPS", forward)
	https.Spec.ForProvider.CertificateArn = compose.Ptr(b.spec.HTTPS.CertificateARN)
	https.Spec.ForProvider.SSLPolicy = compose.Ptr(tlsPolicy)
}

func (b *builder) listener(name string, port int, protocol string, actions []elbv2.DefaultActionParameters) *elbv2.LBListener {
	l := &elbv2.LBListener{
		ObjectMeta: b.meta(name),
		Spec: elbv2.LBListenerSpec{ForProvider: elbv2.LBListenerParameters{
			Region:                  b.regionPtr(),
			LoadBalancerArnSelector: ref("alb"),
			Port:                    compose.Ptr(float64(port)),
			Protocol:                compose.Ptr(protocol),
			DefaultAction:           actions,
			Tags:                    b.tag.Tags(name),
		}},
	}
	b.out.Add(name, l)
	return l
}
