// Operations of a Relay front end, compiled by relay-compiler (test/clients/clients.test.ts) into
// __generated__/, as a Relay project's build would.
import { graphql } from 'relay-runtime';

export const libraryNode = graphql`
  query operationsLibraryNodeQuery($id: ID!) {
    node(id: $id) {
      id
      __typename
      ... on Library {
        code
        name
      }
    }
  }
`;

export const pendingPage = graphql`
  query operationsPendingPageQuery($first: Int!, $after: String) {
    pendingRegistrations(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          patron {
            lastName
          }
        }
      }
    }
  }
`;

export const loginMutation = graphql`
  mutation operationsLoginMutation($input: LoginInput!) {
    login(input: $input) {
      token
      viewer {
        __typename
        ... on Patron {
          id
          firstName
        }
      }
      errors {
        code
      }
    }
  }
`;
