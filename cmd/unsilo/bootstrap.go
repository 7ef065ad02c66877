package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/unsilo/unsilo/internal/bootstrap"
)

func bootstrapCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "bootstrap", Short: "Create what an environment needs before any of its clusters exists"}
	var (
		envName, out string
		rotate       bool
	)
	m := &cobra.Command{
		Use:   "management --env ENV",
		Short: "Create the management cluster's AWS credentials in the environment's account",
		Long: `With the AWS credentials of the environment (any admin session of the account
clusters/ENV/settings names; the default AWS config chain: profile, SSO,
environment), makes sure of:
  - the IAM user unsilo-management, which may only assume the role below
    (platform/bootstrap/management-user-policy.json);
  - the role named by managementRoleArn, trusting only that user, allowed what
    the Network and Cluster APIs compose (platform/bootstrap/*.json);
  - an access key of the user, when it has none (or --rotate).
A new key is written as the Kubernetes Secret crossplane-system/aws-management
to --out (mode 0600): apply it to the management cluster, never commit it.
Every step is idempotent; a run in another account than the settings' is refused.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			root, err := e.repo()
			if err != nil {
				return err
			}
			set, err := bootstrap.ReadSettings(root, envName)
			if err != nil {
				return err
			}
			docs, err := bootstrap.ReadDocuments(root)
			if err != nil {
				return err
			}
			cfg, err := config.LoadDefaultConfig(cmd.Context(), config.WithRegion(set.Region))
			if err != nil {
				return fmt.Errorf("cannot load AWS credentials: %w", err)
			}
			res, err := bootstrap.Ensure(cmd.Context(), iam.NewFromConfig(cfg), sts.NewFromConfig(cfg), set, docs, rotate)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			for _, c := range res.Created {
				fmt.Fprintln(w, "created", c)
			}
			if res.Key == nil {
				fmt.Fprintf(w, "%s has an access key already; the management cluster's Secret holds it (--rotate makes a new one)\n", bootstrap.User)
				return nil
			}
			if err := os.WriteFile(out, bootstrap.Secret(res.Key), 0o600); err != nil {
				return err
			}
			fmt.Fprintf(w, "wrote the Secret to %s; next:\n  kubectl --context <management> create namespace crossplane-system\n  kubectl --context <management> apply -f %s && rm %s\n  kubectl --context <management> apply --server-side -k platform/argocd/config\n  kubectl --context <management> apply -k clusters/%s/management\n", out, out, out, envName)
			return nil
		},
	}
	m.Flags().StringVar(&envName, "env", "", "the environment (a folder under clusters/)")
	m.Flags().StringVar(&out, "out", "aws-management.secret.yaml", "where to write the Secret with a new key")
	m.Flags().BoolVar(&rotate, "rotate", false, "make a new access key even if the user has one (IAM allows two)")
	_ = m.MarkFlagRequired("env")
	c.AddCommand(m)
	return c
}
