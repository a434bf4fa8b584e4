import { useState, type FormEvent } from "react";
import { USERNAME_MAX, USERNAME_MIN } from "../../../runtime/contracts/ids";
import { ApiError, HttpApi, type Api, type Session } from "../state/api";
import { signupProblems, type SignupFields } from "../state/limits";

interface Props {
  onAuthenticated: (session: Session) => void;
  notice?: string;
  api?: Pick<Api, "login" | "signup">;
}

const defaultApi = new HttpApi(() => undefined);

export function AuthScreen({ onAuthenticated, notice, api = defaultApi }: Props) {
  const [mode, setMode] = useState<"login" | "signup">("login");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const signup = mode === "signup";
  const problems = signupProblems({ username, displayName, password }, signup);
  const invalid = Object.keys(problems).length > 0;

  /** aria props and the visible message for a field the limits refuse (no maxLength: it would cut silently). */
  const check = (field: keyof SignupFields) => ({
    "aria-invalid": problems[field] ? true : undefined,
    "aria-describedby": problems[field] ? `${field}-problem` : undefined,
  });
  const problem = (field: keyof SignupFields) =>
    problems[field] && (
      <span id={`${field}-problem`} className="field-problem error" data-testid={`${field}-problem`}>
        {problems[field]}
      </span>
    );

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (invalid) return;
    setBusy(true);
    setError(undefined);
    try {
      const name = username.trim().toLowerCase();
      const session = signup
        ? await api.signup({ username: name, password, displayName: displayName.trim() || undefined })
        : await api.login({ username: name, password });
      onAuthenticated(session);
    } catch (err) {
      setError(err instanceof ApiError || err instanceof Error ? err.message : "Something went wrong");
      setBusy(false);
    }
  }

  return (
    <main className="auth">
      <h1 className="brand">Parley</h1>
      <form className="card" aria-labelledby="auth-title" onSubmit={submit}>
        <h2 id="auth-title">{signup ? "Create an account" : "Log in"}</h2>
        {notice && !error && <p className="notice">{notice}</p>}
        <label>
          Username
          <input
            name="username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            required
            title={`${USERNAME_MIN}–${USERNAME_MAX} letters, digits or _`}
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            autoFocus
            {...check("username")}
          />
          {problem("username")}
        </label>
        {signup && (
          <label>
            Display name <span className="hint">(optional)</span>
            <input
              name="displayName"
              autoComplete="name"
              value={displayName}
              onChange={(e) => setDisplayName(e.target.value)}
              {...check("displayName")}
            />
            {problem("displayName")}
          </label>
        )}
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete={signup ? "new-password" : "current-password"}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            {...check("password")}
          />
          {problem("password")}
        </label>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || invalid}>
          {signup ? "Sign up" : "Log in"}
        </button>
        <button
          type="button"
          className="link"
          onClick={() => {
            setMode(signup ? "login" : "signup");
            setError(undefined);
          }}
        >
          {signup ? "Already have an account? Log in" : "New here? Create an account"}
        </button>
      </form>
    </main>
  );
}
