// Package bootstrap creates, in an environment's AWS account, what its
// management cluster's Crossplane authenticates with before any EKS cluster
// exists: an IAM user that may only assume one role, that role (named by
// managementRoleArn in clusters/<env>/settings) with the permissions of
// platform/bootstrap, and an access key for the user, returned as the
// Kubernetes Secret the management cluster's ClusterProviderConfig reads.
// Every step is idempotent: a second run changes nothing and creates no
// second key unless asked to rotate.
package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"sigs.k8s.io/yaml"
)

// User is the IAM user whose key the management cluster holds.
const User = "unsilo-management"

// IAM is what bootstrap calls of IAM (the SDK's client implements it).
type IAM interface {
	GetUser(context.Context, *iam.GetUserInput, ...func(*iam.Options)) (*iam.GetUserOutput, error)
	CreateUser(context.Context, *iam.CreateUserInput, ...func(*iam.Options)) (*iam.CreateUserOutput, error)
	PutUserPolicy(context.Context, *iam.PutUserPolicyInput, ...func(*iam.Options)) (*iam.PutUserPolicyOutput, error)
	GetRole(context.Context, *iam.GetRoleInput, ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	CreateRole(context.Context, *iam.CreateRoleInput, ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	UpdateAssumeRolePolicy(context.Context, *iam.UpdateAssumeRolePolicyInput, ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	PutRolePolicy(context.Context, *iam.PutRolePolicyInput, ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	CreateAccessKey(context.Context, *iam.CreateAccessKeyInput, ...func(*iam.Options)) (*iam.CreateAccessKeyOutput, error)
}

// STS is what bootstrap calls of STS.
type STS interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Settings are the keys of clusters/<env>/settings bootstrap needs.
type Settings struct {
	Environment, AccountID, Region, ManagementRoleArn string
}

// ReadSettings reads clusters/<env>/settings/settings.yaml under root.
func ReadSettings(root, env string) (Settings, error) {
	path := filepath.Join(root, "clusters", env, "settings", "settings.yaml")
	b, err := os.ReadFile(path)
	if err != nil {
		return Settings{}, err
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(b, &cm); err != nil {
		return Settings{}, fmt.Errorf("%s: %w", path, err)
	}
	s := Settings{Environment: cm.Data["environment"], AccountID: cm.Data["accountId"], Region: cm.Data["region"], ManagementRoleArn: cm.Data["managementRoleArn"]}
	for k, v := range map[string]string{"environment": s.Environment, "accountId": s.AccountID, "region": s.Region, "managementRoleArn": s.ManagementRoleArn} {
		if v == "" {
			return s, fmt.Errorf("%s: data.%s is required", path, k)
		}
	}
	if s.Environment != env {
		return s, fmt.Errorf("%s: data.environment is %q, want %q", path, s.Environment, env)
	}
	return s, nil
}

// roleName is the last part of a role ARN (arn:aws:iam::ACCOUNT:role/NAME).
func roleName(arn, account string) (string, error) {
	prefix := "arn:aws:iam::" + account + ":role/"
	if !strings.HasPrefix(arn, prefix) || strings.Contains(strings.TrimPrefix(arn, prefix), "/") {
		return "", fmt.Errorf("managementRoleArn %q is not a role of account %s (want %sNAME)", arn, account, prefix)
	}
	return strings.TrimPrefix(arn, prefix), nil
}

// Documents are platform/bootstrap's policies, with ACCOUNT_ID to replace.
type Documents struct{ UserPolicy, RoleTrust, RolePolicy string }

// ReadDocuments reads platform/bootstrap under root.
func ReadDocuments(root string) (Documents, error) {
	var d Documents
	for _, f := range []struct {
		file string
		into *string
	}{{"management-user-policy.json", &d.UserPolicy}, {"management-role-trust.json", &d.RoleTrust}, {"management-role-policy.json", &d.RolePolicy}} {
		b, err := os.ReadFile(filepath.Join(root, "platform", "bootstrap", f.file))
		if err != nil {
			return d, err
		}
		*f.into = string(b)
	}
	return d, nil
}

// Key is the access key the management cluster keeps.
type Key struct{ ID, Secret string }

// Result says what Ensure did.
type Result struct {
	Created []string // what did not exist before
	Key     *Key     // nil when the user has a key already and no rotation was asked
}

// Ensure makes the user, its policy, the role with its trust and policy,
// and (when the user has none, or rotate) an access key exist.
func Ensure(ctx context.Context, i IAM, s STS, set Settings, docs Documents, rotate bool) (*Result, error) {
	id, err := s.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("cannot tell which account the credentials are for: %w", err)
	}
	if got := aws.ToString(id.Account); got != set.AccountID {
		return nil, fmt.Errorf("the credentials are for account %s, but clusters/%s/settings names account %s: sign in to that account", got, set.Environment, set.AccountID)
	}
	role, err := roleName(set.ManagementRoleArn, set.AccountID)
	if err != nil {
		return nil, err
	}
	sub := func(doc string) string { return strings.ReplaceAll(doc, "ACCOUNT_ID", set.AccountID) }
	tags := []iamtypes.Tag{{Key: aws.String("managed-by"), Value: aws.String("unsilo-bootstrap")}, {Key: aws.String("unsilo:environment"), Value: aws.String(set.Environment)}}
	r := &Result{}

	if _, err := i.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(User)}); err != nil {
		if !noSuchEntity(err) {
			return nil, fmt.Errorf("iam GetUser %s: %w", User, err)
		}
		if _, err := i.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(User), Tags: tags}); err != nil {
			return nil, fmt.Errorf("iam CreateUser %s: %w", User, err)
		}
		r.Created = append(r.Created, "user "+User)
	}
	if _, err := i.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(User), PolicyName: aws.String("assume-management"), PolicyDocument: aws.String(sub(docs.UserPolicy))}); err != nil {
		return nil, fmt.Errorf("iam PutUserPolicy %s: %w", User, err)
	}
	if _, err := i.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(role)}); err != nil {
		if !noSuchEntity(err) {
			return nil, fmt.Errorf("iam GetRole %s: %w", role, err)
		}
		if _, err := i.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role), AssumeRolePolicyDocument: aws.String(sub(docs.RoleTrust)),
			Description: aws.String("Crossplane of the " + set.Environment + " management cluster: the environment's Network and EKS Cluster"), MaxSessionDuration: aws.Int32(3600), Tags: tags}); err != nil {
			return nil, fmt.Errorf("iam CreateRole %s: %w", role, err)
		}
		r.Created = append(r.Created, "role "+role)
	} else if _, err := i.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(role), PolicyDocument: aws.String(sub(docs.RoleTrust))}); err != nil {
		return nil, fmt.Errorf("iam UpdateAssumeRolePolicy %s: %w", role, err)
	}
	if _, err := i.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("manage-cluster"), PolicyDocument: aws.String(sub(docs.RolePolicy))}); err != nil {
		return nil, fmt.Errorf("iam PutRolePolicy %s: %w", role, err)
	}
	keys, err := i.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String(User)})
	if err != nil {
		return nil, fmt.Errorf("iam ListAccessKeys %s: %w", User, err)
	}
	if len(keys.AccessKeyMetadata) > 0 && !rotate {
		return r, nil
	}
	if len(keys.AccessKeyMetadata) >= 2 {
		return nil, fmt.Errorf("%s has two access keys already (IAM's limit): delete the old one (aws iam delete-access-key --user-name %s --access-key-id ...) after the management cluster uses the new one", User, User)
	}
	k, err := i.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(User)})
	if err != nil {
		return nil, fmt.Errorf("iam CreateAccessKey %s: %w", User, err)
	}
	r.Key = &Key{ID: aws.ToString(k.AccessKey.AccessKeyId), Secret: aws.ToString(k.AccessKey.SecretAccessKey)}
	r.Created = append(r.Created, "access key "+r.Key.ID)
	return r, nil
}

func noSuchEntity(err error) bool {
	var e *iamtypes.NoSuchEntityException
	return errors.As(err, &e)
}

// Secret is the Kubernetes Secret crossplane-system/aws-management that the
// management cluster's ClusterProviderConfig reads (key credentials, the
// AWS shared credentials format).
func Secret(k *Key) []byte {
	creds := "[default]\naws_access_key_id = " + k.ID + "\naws_secret_access_key = " + k.Secret + "\n"
	s := map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata":   map[string]any{"name": "aws-management", "namespace": "crossplane-system"},
		"type":       "Opaque",
		"stringData": map[string]any{"credentials": creds},
	}
	b, _ := yaml.Marshal(s) // a map of strings always marshals
	return append([]byte("# Apply to the management cluster only; never commit it.\n"), b...)
}
