#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H
/* The EC_KEY / ECDSA_do_* calls are deprecated in OpenSSL 3 but remain supported and are the
   direct way to work with raw r||s signatures and compressed points. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>
#include <openssl/rand.h>
#include <openssl/err.h>

/* NID_* are int macros that import, but keep the two curves in one obvious place. */
static const int COPENSSL_NID_SECP256K1 = NID_secp256k1;
static const int COPENSSL_NID_P256 = NID_X9_62_prime256v1;
#endif
