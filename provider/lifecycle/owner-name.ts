/**
 * How the owner of an object on the DPU (the `owner` input, recorded there) is named in messages, by DpuUnderlay
 * and DpuWorkload alike: `` owner `p/stack/name` `` or `no recorded owner`.
 */
export function ownerName(owner: string | undefined): string {
  return owner === undefined ? "no recorded owner" : `owner \`${owner}\``;
}
