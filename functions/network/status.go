package network

// status writes back the ids other XRs and people need, once AWS has them.
// Fields appear only when every id of a list is known, so a consumer never
// reads a half-filled list.
func (b *builder) status() {
	st := b.out.Status
	st["zones"] = b.spec.zones()
	if id := b.req.AtProvider("vpc", "id"); id != "" {
		st["vpcId"] = id
	}
	var pub, priv []string
	for i := range b.spec.AZCount {
		pub = append(pub, subnetName("public", i))
		priv = append(priv, subnetName("private", i))
	}
	if ids, ok := b.req.AtProviderAll(pub, "id"); ok {
		st["publicSubnetIds"] = ids
	}
	if ids, ok := b.req.AtProviderAll(priv, "id"); ok {
		st["privateSubnetIds"] = ids
	}
	if id := b.req.AtProvider(endpointSG, "id"); id != "" {
		st["endpointSecurityGroupId"] = id
	}
}
