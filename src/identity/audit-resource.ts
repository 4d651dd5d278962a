/** How audit entries name a charging point as their resource, so they can be filtered by it. */
export function cpResource(cpId: string): string {
  return `cp/${cpId}`;
}
