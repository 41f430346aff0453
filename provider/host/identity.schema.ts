import { z } from "zod";
import { isIp, parseCidr } from "../underlay/cidr";

/**
 * RFC 1123 host name (labels of letters, digits and inner hyphens, at most 63 characters each, 253 in all).
 * Nothing else reaches a seed, so nothing in it can be special to YAML or a shell.
 */
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** One OpenSSH `authorized_keys` public key line: `<type> <base64> [comment]`, no options, one line. */
const AUTHORIZED_KEY =
  /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]*)?$/;

/** A Linux interface name (IFNAMSIZ: at most 15 bytes, no `/`, no whitespace). */
const IFNAME = /^[A-Za-z0-9_.:-]{1,15}$/;

/** A crypt(3) hash as `openssl passwd -1/-5/-6` or `mkpasswd` print it (`$id$[rounds=N$]salt$hash`). */
const CRYPT_HASH = /^\$(1|5|6|y|2[aby])\$[./A-Za-z0-9$=,-]{8,200}$/;

/** An absolute path of portable file-name characters (no spaces, quotes or control characters), no trailing `/`. */
const ABS_PATH = /^(?:\/[A-Za-z0-9._@+,=:~%-]+)+$/;

/** The management interface: the one the provider reaches the DPU OS on (SSH), static or DHCP. */
export const DpuIdentityManagementSchema = z
  .strictObject({
    interface: z
      .string()
      .regex(IFNAME, "must be a Linux interface name (1-15 letters, digits, `_ . : -`)")
      .describe("Interface name as the DPU OS sees it, e.g. `oob_net0` (BlueField) or `eth0`."),
    dhcp: z
      .boolean()
      .default(false)
      .describe("Take the address by DHCPv4 (default false: the static `addresses` are used)."),
    addresses: z
      .array(
        z
          .string()
          .refine((v) => parseCidr(v) !== undefined, "must be an address with prefix, e.g. 10.0.0.5/24"),
      )
      .optional()
      .describe("Static addresses with prefix length (IPv4 or IPv6), e.g. `198.18.0.10/24`."),
    gateway: z
      .string()
      .refine(isIp, "must be an IPv4 or IPv6 address")
      .optional()
      .describe("Default gateway of the static addresses."),
    nameservers: z
      .array(z.string().refine(isIp, "must be an IPv4 or IPv6 address"))
      .optional()
      .describe("DNS servers."),
  })
  .superRefine((v, ctx) => {
    const statics = (v.addresses ?? []).length > 0;
    if (v.dhcp === statics) {
      ctx.addIssue({
        code: "custom",
        path: ["addresses"],
        message: v.dhcp
          ? "set either dhcp: true or static addresses, not both"
          : "give static addresses (with an optional gateway) or set dhcp: true",
      });
    }
    if (v.gateway !== undefined && !statics) {
      ctx.addIssue({ code: "custom", path: ["gateway"], message: "a gateway needs static addresses" });
    }
  })
  .describe("The management interface and its address.");

/** A user's password, as a crypt(3) hash (never the clear text). */
export const DpuIdentityPasswordSchema = z
  .strictObject({
    user: z
      .string()
      .regex(/^[a-z_][a-z0-9_-]{0,31}$/, "must be a POSIX user name")
      .default("root")
      .describe("User whose password is set (default root; BlueField Ubuntu images log in as `ubuntu`)."),
    hash: z
      .string()
      .regex(CRYPT_HASH, "must be a crypt(3) hash, e.g. the output of `openssl passwd -6`")
      .describe("crypt(3) hash of the password (`openssl passwd -6`). Secret: never logged, secret in state.")
      .meta({ secret: true }),
  })
  .describe("An optional password for console login.");

/** An extra file written by the seed on first boot. */
export const DpuIdentityFileSchema = z
  .strictObject({
    path: z
      .string()
      .regex(ABS_PATH, "must be an absolute path of letters, digits and `._@+,=:~%-`")
      .refine((p) => !p.split("/").includes(".."), "must not contain `..`")
      .describe("Absolute path on the DPU."),
    content: z
      .string()
      .describe("File content (text). Secret when `secret` is true.")
      .meta({ secret: "whenFlagged" }),
    mode: z
      .string()
      .regex(/^0?[0-7]{3,4}$/, "must be an octal mode, e.g. 0644")
      .default("0644")
      .describe("Octal permissions (default 0644)."),
    secret: z
      .boolean()
      .default(false)
      .describe("The content is a secret: redacted from logs, and the seed is then never kept in state.")
      .meta({ secretFlag: true }),
  })
  .describe("A file the seed writes on first boot.");

/**
 * `identity`: what makes a generic image come up as this DPU (hostname, management address, the operator's
 * keys, optionally a password, extra files and a host key the provider generates). Delivered as a NoCloud seed
 * (`cidata` volume) by virtual media, or as a `bf.cfg` appended to a BlueField BFB.
 */
export const DpuIdentitySchema = z
  .strictObject({
    hostname: z
      .string()
      .regex(HOSTNAME, "must be an RFC 1123 host name (letters, digits, inner hyphens, dot-separated)")
      .describe("Host name of the DPU OS (NoCloud `local-hostname` and cloud-config `hostname`)."),
    authorizedKeys: z
      .array(
        z
          .string()
          .regex(AUTHORIZED_KEY, "must be one OpenSSH public key line (`ssh-ed25519 AAAA… [comment]`)"),
      )
      .min(1, "give at least one key: without one the DPU cannot be reached")
      .describe("Public keys allowed to log in as root (and the image's default user)."),
    management: DpuIdentityManagementSchema,
    password: DpuIdentityPasswordSchema.optional(),
    files: z
      .array(DpuIdentityFileSchema)
      .optional()
      .describe("Extra files written on first boot. Secret in state as a whole (the seed carries them).")
      .meta({ secret: true }),
    hostKey: z
      .enum(["generate", "image"])
      .default("image")
      .describe(
        "`generate`: the provider generates an ed25519 SSH host key, delivers it in the seed and pins its fingerprint before first contact (kept secret in state). `image` (default): the image makes its own key, pinned on first use (TOFU).",
      ),
  })
  .describe("Day-0 identity delivered with the image (NoCloud seed or BlueField bf.cfg).");

/** Checked identity input. */
export type DpuIdentity = z.output<typeof DpuIdentitySchema>;
/** One extra file of an identity. */
export type DpuIdentityFile = z.output<typeof DpuIdentityFileSchema>;
