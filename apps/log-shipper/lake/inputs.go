package lake

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Input is one file to ingest.
type Input struct {
	Name string // shown in reports and quarantine entries
	Base string // base name, part of the content hash
	Size int64
	Open func(ctx context.Context) (io.ReadCloser, error)
}

// LocalInputs lists a file, or the regular files under a directory (sorted,
// hidden entries skipped).
func LocalInputs(p string) ([]Input, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("input: %w", err)
	}
	var files []string
	if !st.IsDir() {
		files = []string{p}
	} else {
		err := filepath.WalkDir(p, func(fp string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if strings.HasPrefix(d.Name(), ".") && fp != p {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, fp)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walk %s: %w", p, err)
		}
		sort.Strings(files)
	}
	out := make([]Input, 0, len(files))
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("input: %w", err)
		}
		out = append(out, Input{Name: f, Base: filepath.Base(f), Size: fi.Size(),
			Open: func(context.Context) (io.ReadCloser, error) { return os.Open(f) }})
	}
	return out, nil
}

// S3Inputs lists the objects under s3://bucket/prefix.
func S3Inputs(ctx context.Context, client S3API, bucket, prefix string) ([]Input, error) {
	var out []Input
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list s3://%s/%s: %w", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") {
				continue
			}
			out = append(out, S3Input(client, bucket, key, aws.ToInt64(o.Size)))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// S3Input is one S3 object as an input, named s3://bucket/key.
func S3Input(client S3API, bucket, key string, size int64) Input {
	return Input{Name: "s3://" + bucket + "/" + key, Base: path.Base(key), Size: size,
		Open: func(ctx context.Context) (io.ReadCloser, error) {
			r, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				return nil, fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
			}
			return r.Body, nil
		}}
}
