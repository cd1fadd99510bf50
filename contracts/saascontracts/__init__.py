"""What the edge and the origin must agree on, in the standard library only.

Staged into the Lambda@Edge asset (beside `edge`) and into the origin's shared layer, so both sides
import the same code: JWT/JWK verification (`tokens`, `keys`, `p256`, `libcrypto`), strict base64url
(`b64`), the identity headers and cookie names (`identity`) and the problem+json document the edge
emits (`problems`). Nothing here imports a function package.
"""
