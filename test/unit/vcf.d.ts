// Minimal types for the `vcf` parser, which ships none; only what the vCard
// tests use. Values come back exactly as written (still escaped, see vcard.test.ts).
declare module 'vcf' {
  namespace vCard {
    interface Property {
      readonly group?: string;
      readonly type?: string | string[];
      readonly value?: string;
      readonly encoding?: string;
      valueOf(): string;
      toJSON(): [string, Record<string, unknown>, string, string | string[]];
    }
  }
  class vCard {
    version: string;
    data: Record<string, vCard.Property | vCard.Property[] | undefined>;
    parse(text: string): this;
    get(key: string): vCard.Property | vCard.Property[] | undefined;
  }
  export = vCard;
}
