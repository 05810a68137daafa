import JSON

/// A minimal DID document for a key this process generated (`mint-token`, tests).
public func makeDIDDocument(did: String, handle: String?, key: PublicKey, pdsEndpoint: String? = nil) -> String {
    var writer = JSONWriter(capacity: 512)
    writer.beginObject()
    writer.key("@context")
    writer.beginArray()
    writer.string("https://www.w3.org/ns/did/v1")
    writer.string("https://w3id.org/security/multikey/v1")
    writer.endArray()
    writer.field("id", did)
    if let handle {
        writer.key("alsoKnownAs")
        writer.beginArray()
        writer.string("at://" + handle)
        writer.endArray()
    }
    writer.key("verificationMethod")
    writer.beginArray()
    writer.beginObject()
    writer.field("id", did + "#atproto")
    writer.field("type", "Multikey")
    writer.field("controller", did)
    writer.field("publicKeyMultibase", key.multikey)
    writer.endObject()
    writer.endArray()
    if let pdsEndpoint {
        writer.key("service")
        writer.beginArray()
        writer.beginObject()
        writer.field("id", "#atproto_pds")
        writer.field("type", "AtprotoPersonalDataServer")
        writer.field("serviceEndpoint", pdsEndpoint)
        writer.endObject()
        writer.endArray()
    }
    writer.endObject()
    return writer.text
}
